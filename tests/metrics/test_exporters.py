"""Exporters are pure functions: round trips through their own parsers."""

from __future__ import annotations

import csv
import io
import json

from prometheus_client.parser import text_string_to_metric_families

from inspector.metrics import MetricsModel, Snapshot
from inspector.metrics.exporters import (
    history_to_csv,
    snapshot_to_csv,
    snapshot_to_json,
    snapshot_to_prometheus,
    snapshots_to_prometheus,
)
from inspector.resources import ResourceManagementService, ResourceType

from .helpers import Owner, Thing


def make_snapshot(
    service: ResourceManagementService, app: str = "exp"
) -> tuple[Snapshot, list[Thing]]:
    owner = Owner()
    service.register_component(owner, 'Odd "name"\\with\nnewline', "controller")
    keep = [Thing() for _ in range(3)]
    for t in keep:
        service.track_resource(owner, ResourceType.CACHE, t, 100)
    keep.append(owner)  # type: ignore[arg-type]
    model = MetricsModel(service, app=app)
    model.sample()
    snap = model.snapshot()
    model.close()
    return snap, keep


def test_json_round_trip(service: ResourceManagementService) -> None:
    snap, _ = make_snapshot(service)
    data = snapshot_to_json(snap)
    assert Snapshot.from_json(data) == snap
    assert json.loads(data)["live_resources"] == 3


def test_csv_long_form_round_trip(service: ResourceManagementService) -> None:
    snap, _ = make_snapshot(service)
    rows = list(csv.DictReader(io.StringIO(snapshot_to_csv(snap))))
    by = {(r["metric"], r["resource_type"], r["component_id"]): r["value"] for r in rows}
    assert by[("live_resources", "", "")] == "3"
    assert by[("type_bytes", "cache", "")] == "300"
    assert by[("component_live", "", 'Odd "name"\\with\nnewline')] == "3"


def test_history_csv_has_one_row_per_sample(service: ResourceManagementService) -> None:
    owner = Owner()
    model = MetricsModel(service)
    keep = []
    for _ in range(4):
        keep.append(Thing())
        service.track_resource(owner, ResourceType.THUMBNAIL, keep[-1], 7)
        model.sample()
    rows = list(csv.DictReader(io.StringIO(history_to_csv(model.history()))))
    assert [r["live_thumbnail"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["cache_bytes"] for r in rows] == ["7", "14", "21", "28"]
    model.close()


def test_prometheus_parses_with_prometheus_clients_own_parser(
    service: ResourceManagementService,
) -> None:
    snap, _ = make_snapshot(service)
    text = snapshot_to_prometheus(snap)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    live = families["resinspect_live_resources"].samples[0]
    assert live.value == 3
    assert live.labels == {"app": "exp", "pid": str(snap.pid)}
    comp = families["resinspect_component_live_resources"].samples[0]
    assert comp.labels["component"] == 'Odd "name"\\with\nnewline'  # escaped and restored
    created = families["resinspect_resources_created"]
    assert created.type == "counter"
    assert [(s.labels["type"], s.value) for s in created.samples
            if s.name.endswith("_total")] == [("cache", 3.0)]


def test_prometheus_for_several_apps(service: ResourceManagementService, qapp: object) -> None:
    a, _ = make_snapshot(service, "first")
    b, _ = make_snapshot(ResourceManagementService(), "second")
    families = {f.name: f for f in text_string_to_metric_families(snapshots_to_prometheus([a, b]))}
    apps = sorted(s.labels["app"] for s in families["resinspect_rss_bytes"].samples)
    assert apps == ["first", "second"]
