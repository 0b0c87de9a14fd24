"""Test doubles and builders for the dock's tests: a source without any model behind it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from inspector.metrics.snapshot import (
    CallbackAudit,
    ComponentStats,
    History,
    LeakSuspect,
    Marker,
    ResourceEntry,
    ResourcePage,
    Snapshot,
    TeardownAudit,
    TypeStats,
    WorkerInfo,
)


def make_snapshot(**overrides: Any) -> Snapshot:
    """A plausible snapshot; any field can be overridden."""
    fields: dict[str, Any] = {
        "pid": 4242,
        "app": "fake-app",
        "timestamp": 1_700_000_000.0,
        "uptime_s": 12.5,
        "created_total": 10,
        "destroyed_total": 7,
        "live_resources": 3,
        "tracked_bytes": 3000,
        "peak_tracked_bytes": 5000,
        "rss_bytes": 80 * 2**20,
        "peak_rss_bytes": 90 * 2**20,
        "active_workers": 1,
        "cache_bytes": 2000,
        "cache_entries": 2,
        "event_loop_lag_ms": 3.0,
        "gui_stack": [],
        "by_type": {
            "cache": TypeStats(live=2, created=5, destroyed=3, bytes=2000),
            "worker": TypeStats(live=1, created=5, destroyed=4, bytes=1000),
        },
        "components": [
            ComponentStats(id="Gallery", type="tab", live=2, bytes=2000, alive=True),
            ComponentStats(id="Loader", type="coordinator", live=1, bytes=1000, alive=True),
        ],
        "leak_suspects": [
            LeakSuspect(component_id="Gone", resource_type="cache", resource_id="r9",
                        reason="retained_after_cleanup", age_s=42.0, size_bytes=512),
        ],
        "workers": [
            WorkerInfo(resource_id="w1", component_id="Loader", running=True, age_s=3.0,
                       type_name="QThread"),
        ],
        "audits": [
            TeardownAudit(component_id="Old", reason="destroyed", t=4.0, released=2,
                          callbacks=[
                              CallbackAudit(name="stop", priority=20, order=0, duration_ms=1.5),
                              CallbackAudit(name="flush", priority=10, order=1,
                                            duration_ms=0.5, error="OSError: disk full"),
                          ]),
        ],
        "markers": [],
    }
    fields.update(overrides)
    return Snapshot(**fields)


def make_history(n: int = 60, t0: float = 0.0, dt: float = 1.0, *, phase: float = 0.0,
                 markers: list[Marker] | None = None,
                 types: tuple[str, ...] = ("cache", "worker")) -> History:
    """``n`` samples of smooth, distinct curves starting at ``t0``."""
    t = [t0 + i * dt for i in range(n)]
    wave = [math.sin(phase + i / 7.0) for i in range(n)]
    return History(
        t=t,
        rss_bytes=[int(80e6 + 5e6 * w) for w in wave],
        tracked_bytes=[int(3000 + 1000 * w) for w in wave],
        live_resources=[int(30 + 10 * w) for w in wave],
        active_workers=[int(2 + 2 * w) for w in wave],
        cache_bytes=[int(2e6 + 1e6 * w) for w in wave],
        event_loop_lag_ms=[abs(20 * w) for w in wave],
        live_by_type={name: [int(10 + (k + 1) * 5 * w) for w in wave]
                      for k, name in enumerate(types)},
        markers=markers or [],
    )


@dataclass
class FakeSource:
    """A ``MetricsSource`` whose answers the test sets; it counts the calls it gets."""

    snap: Snapshot = field(default_factory=make_snapshot)
    hist: History = field(default_factory=make_history)
    pages: dict[str, list[ResourceEntry]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=lambda: {"snapshot": 0, "history": 0,
                                                            "resources": 0})
    fail: Exception | None = None

    def snapshot(self) -> Snapshot:
        self.calls["snapshot"] += 1
        if self.fail is not None:
            raise self.fail
        return self.snap

    def history(self) -> History:
        self.calls["history"] += 1
        return self.hist

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        self.calls["resources"] += 1
        items = [e for cid, entries in self.pages.items() for e in entries
                 if component_id is None or cid == component_id]
        return ResourcePage(total=len(items), offset=offset, items=items[offset:offset + limit])


class ClearableFakeSource(FakeSource):
    """A fake that can also clear its history."""

    cleared = 0

    def clear_history(self) -> None:
        self.cleared += 1
        self.hist = make_history(0)


def entry(resource_id: str, component_id: str, size: int = 100,
          resource_type: str = "cache") -> ResourceEntry:
    """A resource listing entry."""
    return ResourceEntry(resource_id=resource_id, component_id=component_id,
                         resource_type=resource_type, size_bytes=size, age_s=1.0,
                         thread_id=1, type_name="bytes", alive=True)


def append_sample(history: History, dt: float = 1.0, **values: Any) -> History:
    """``history`` with one more sample ``dt`` after its last; columns not given in
    ``values`` repeat their last value (``live_by_type`` takes a dict of per-type values)."""
    t = history.t[-1] + dt if history.t else 0.0
    by_type_values: dict[str, int] = values.pop("live_by_type", {})

    def extended(name: str) -> list[Any]:
        column = list(getattr(history, name))
        column.append(values.get(name, column[-1] if column else 0))
        return column

    by_type = {}
    for name in {*history.live_by_type, *by_type_values}:
        column = list(history.live_by_type.get(name, [0] * len(history.t)))
        column.append(by_type_values.get(name, column[-1] if column else 0))
        by_type[name] = column
    return History(
        t=[*history.t, t],
        rss_bytes=extended("rss_bytes"),
        tracked_bytes=extended("tracked_bytes"),
        live_resources=extended("live_resources"),
        active_workers=extended("active_workers"),
        cache_bytes=extended("cache_bytes"),
        event_loop_lag_ms=extended("event_loop_lag_ms"),
        live_by_type=by_type,
        markers=list(history.markers) + list(values.get("markers", [])),
    )
