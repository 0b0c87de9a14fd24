"""Exporters: pure functions of snapshots and histories. No state, no I/O, no Qt.

Prometheus text comes from prometheus_client through a custom collector, never formatted by
hand, so its escaping and exposition rules are the library's.

Series are bounded: components are labelled by class, their id without instance numbers
(``MediaAnalysisController#17`` → ``component="MediaAnalysisController"``), with the figures of
every instance summed, so an application that opens and closes a thousand tabs has the
series it had after ten. Per-instance detail stays in JSON snapshots and CSV (docs/prometheus.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

from .history import COLUMNS
from .snapshot import History, Snapshot, group_of
from .text import csv_cell

_GAUGES = (
    ("live_resources", "Resources tracked now"),
    ("tracked_bytes", "Bytes of the resources tracked now"),
    ("peak_tracked_bytes", "Highest tracked bytes since start"),
    ("rss_bytes", "Resident memory of the process"),
    ("peak_rss_bytes", "Peak resident memory of the process"),
    ("active_workers", "Tracked workers running now"),
    ("cache_bytes", "Bytes of live CACHE and THUMBNAIL resources"),
    ("cache_entries", "Live CACHE and THUMBNAIL resources"),
    ("event_loop_lag_ms", "Milliseconds since the GUI event loop last turned (0 when on time)"),
    ("uptime_s", "Seconds since the inspector started"),
)


def snapshot_to_json(snapshot: Snapshot) -> bytes:
    """The snapshot as compact JSON (schema ``resinspect.snapshot/1``)."""
    return snapshot.to_json()


def snapshot_to_csv(snapshot: Snapshot) -> str:
    """The snapshot in long form: ``metric,resource_type,component_id,value`` rows.

    Long form keeps one file shape whatever types and components exist, so runs compare
    with any spreadsheet or ``pandas.pivot``.
    """
    out = io.StringIO()
    writer = _csv_writer(out)
    writer.writerow(["metric", "resource_type", "component_id", "value"])
    for name, _ in _GAUGES:
        writer.writerow([name, "", "", getattr(snapshot, name)])
    writer.writerow(["created_total", "", "", snapshot.created_total])
    writer.writerow(["destroyed_total", "", "", snapshot.destroyed_total])
    for type_name, stats in sorted(snapshot.by_type.items()):
        for field in ("live", "created", "destroyed", "bytes"):
            writer.writerow([f"type_{field}", type_name, "", getattr(stats, field)])
    for comp in snapshot.components:
        writer.writerow(["component_live", "", comp.id, comp.live])
        writer.writerow(["component_bytes", "", comp.id, comp.bytes])
    for suspect in snapshot.leak_suspects:
        writer.writerow([f"suspect_{suspect.reason}", suspect.resource_type,
                         suspect.component_id, suspect.resource_id])
    return out.getvalue()


class _SafeCsvWriter:
    """``csv.writer`` whose text cells go through :func:`~inspector.metrics.text.csv_cell`
    (no spreadsheet runs ``=cmd|...`` from a component id) and where a bare CR is quoted:
    with ``lineterminator="\\n"`` the csv module quotes only for the delimiter, the quote
    character and ``\\n``, and ``csv.reader`` then fails on the file. A row with a CR is
    written with every cell quoted (CSV has no types: readers see the same values)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Sequence[object]) -> None:
        cells = [csv_cell(value) for value in row]
        if any(isinstance(c, str) and "\r" in c for c in cells):
            self._quoted.writerow(cells)
        else:
            self._writer.writerow(cells)


def _csv_writer(out: io.StringIO) -> _SafeCsvWriter:
    return _SafeCsvWriter(out)


#: The history's gauges in the CSV export: every column but the inspector's own share, which
#: the export has never carried (a spreadsheet of the application's figures).
_CSV_COLUMNS = tuple(c for c in COLUMNS if c != "inspector_bytes")


def history_to_csv(history: History) -> str:
    """The history in wide form: one row per sample, one column per gauge and per type."""
    out = io.StringIO()
    writer = _csv_writer(out)
    types = sorted(history.live_by_type)
    columns = [getattr(history, name) for name in _CSV_COLUMNS]
    writer.writerow([*_CSV_COLUMNS, *(f"live_{t}" for t in types)])
    for i in range(len(history.t)):
        writer.writerow([*(column[i] for column in columns),
                         *(history.live_by_type[name][i] for name in types)])
    return out.getvalue()


def snapshot_to_prometheus(snapshot: Snapshot) -> str:
    """Prometheus text exposition of one application's snapshot."""
    return snapshots_to_prometheus([snapshot])


def snapshots_to_prometheus(snapshots: Sequence[Snapshot]) -> str:
    """Prometheus text for several applications, told apart by ``app`` and ``pid`` labels."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshots))
    return generate_latest(registry).decode()


class _SnapshotCollector:
    """A prometheus_client custom collector over fixed snapshots."""

    def __init__(self, snapshots: Iterable[Snapshot]) -> None:
        self._snapshots = list(snapshots)

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        app_labels = ["app", "pid"]
        for name, doc in _GAUGES:
            family = GaugeMetricFamily(f"resinspect_{name}", doc, labels=app_labels)
            for s in self._snapshots:
                family.add_metric([s.app, str(s.pid)], float(getattr(s, name)))
            yield family
        created = CounterMetricFamily("resinspect_resources_created",
                                      "Resources tracked since start", labels=[*app_labels, "type"])
        destroyed = CounterMetricFamily("resinspect_resources_destroyed",
                                        "Resources released since start",
                                        labels=[*app_labels, "type"])
        live = GaugeMetricFamily("resinspect_type_live_resources", "Live resources by type",
                                 labels=[*app_labels, "type"])
        type_bytes = GaugeMetricFamily("resinspect_type_bytes", "Tracked bytes by type",
                                       labels=[*app_labels, "type"])
        comp_live = GaugeMetricFamily("resinspect_component_live_resources",
                                      "Live resources by owning component class (id without #n)",
                                      labels=[*app_labels, "component"])
        comp_bytes = GaugeMetricFamily("resinspect_component_bytes",
                                       "Tracked bytes by owning component class (id without #n)",
                                       labels=[*app_labels, "component"])
        comp_instances = GaugeMetricFamily(
            "resinspect_component_instances",
            "Components alive, by class (id without #n), whatever they hold",
            labels=[*app_labels, "component"])
        suspects = GaugeMetricFamily("resinspect_leak_suspects", "Leak suspects by reason",
                                     labels=[*app_labels, "reason"])
        for s in self._snapshots:
            base = [s.app, str(s.pid)]
            for type_name, st in sorted(s.by_type.items()):
                created.add_metric([*base, type_name], float(st.created))
                destroyed.add_metric([*base, type_name], float(st.destroyed))
                live.add_metric([*base, type_name], float(st.live))
                type_bytes.add_metric([*base, type_name], float(st.bytes))
            for cls, (alive, count, size) in sorted(_by_class(s).items()):
                comp_live.add_metric([*base, cls], float(count))
                comp_bytes.add_metric([*base, cls], float(size))
                comp_instances.add_metric([*base, cls], float(alive))
            reasons: dict[str, int] = {}
            for suspect in s.leak_suspects:
                reasons[suspect.reason] = reasons.get(suspect.reason, 0) + 1
            for reason, count in sorted(reasons.items()):
                suspects.add_metric([*base, reason], float(count))
        yield from (created, destroyed, live, type_bytes, comp_live, comp_bytes, comp_instances,
                    suspects)


def _by_class(snapshot: Snapshot) -> dict[str, tuple[int, int, int]]:
    """Component class → (instances alive, live resources, bytes), summed over instances.

    A class whose instances are all gone (kept in the snapshot by their leak suspects) stays
    with 0 instances, so its series does not vanish while a suspect names it.
    """
    classes: dict[str, tuple[int, int, int]] = {}
    for comp in snapshot.components:
        alive, count, size = classes.get(group_of(comp.id), (0, 0, 0))
        classes[group_of(comp.id)] = (alive + comp.alive, count + comp.live, size + comp.bytes)
    return classes
