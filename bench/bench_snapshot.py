"""Snapshot, export and memory costs with 100,000 live resources.

Budgets (issue 3):
* aggregate snapshot with 100,000 live resources       <= 1 ms
* full export of 100,000 resources (JSON), GC enabled   <= 1.5x building and encoding the
  same records with msgspec alone, in the same run
* memory per tracked resource, service + model (tracemalloc) <= 400 bytes

Times are the main thread's CPU time (bench/_harness.py), export ratios medians of
per-round ratios.

Run: python bench/bench_snapshot.py   (writes bench/results/snapshot.json)
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
import tracemalloc

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

import msgspec
from PySide6.QtCore import QCoreApplication

from _harness import clock_ns, interleaved, ratios, record, sample_rounds, spread
from inspector.metrics import MetricsModel, ResourceEntry, ResourcePage
from inspector.resources import ResourceManagementService, ResourceType

N = 100_000
EXPORT_ROUNDS = 21


class Thing:
    __slots__ = ("__weakref__",)


class Owner:
    pass


def main() -> int:
    app = QCoreApplication.instance() or QCoreApplication([])
    assert gc.isenabled()
    service = ResourceManagementService()
    model = MetricsModel(service, app="bench")
    owners = [Owner() for _ in range(20)]
    for i, o in enumerate(owners):
        service.register_component(o, f"Component{i}")
    things = [Thing() for _ in range(N)]
    types = [ResourceType.CACHE, ResourceType.THUMBNAIL, ResourceType.MEMORY,
             ResourceType.FILE_HANDLE]

    # memory: service + model per tracked resource, after a warm-up resource
    service.track_resource(owners[0], ResourceType.CACHE, Thing(), 1)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i, t in enumerate(things):
        service.track_resource(owners[i % 20], types[i % 4], t, 100 + i % 50)
    model.sample()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    per_resource = sum(s.size_diff for s in after.compare_to(before, "filename")) / N

    def snapshot_ms() -> float:
        start = clock_ns()
        model.snapshot()
        return (clock_ns() - start) / 1e6

    # the baseline: the same records (12 fields, the thread's name included) built from
    # plain values and encoded by msgspec alone
    now = time.monotonic()
    raw = [(f"cache-{i}", f"Component{i % 20}", "cache", 100 + i % 50, now - 1.0, 1234,
            "Thing", True, None, "Thing", "main (/app/main.py:12)", "MainThread")
           for i in range(N)]
    encoder = msgspec.json.Encoder()

    def baseline_ms() -> float:
        start = clock_ns()
        # positional construction: the fastest msgspec offers, so the ratio is honest
        items = [ResourceEntry(r[0], r[1], r[2], r[3], round(now - r[4], 3), r[5], r[6], r[7],
                               r[8], r[9], r[10], r[11]) for r in raw]
        encoder.encode(ResourcePage(total=N, offset=0, items=items))
        return (clock_ns() - start) / 1e6

    def export_ms() -> float:
        start = clock_ns()
        page = model.resources(0, N)
        encoder.encode(page)
        assert page.total == N
        return (clock_ns() - start) / 1e6

    snap = interleaved({"snapshot": snapshot_ms}, 50)
    # Each export allocates 100k records with the collector on, so a full collection lands
    # in some samples and not others: many rounds, rotated, judged by per-round ratios.
    gc.collect()
    exports = sample_rounds({"baseline": baseline_ms, "export": export_ms}, EXPORT_ROUNDS,
                            warmup=1, rotate=True)
    export_ratio = ratios(exports, "baseline")["export"]
    snapshot = model.snapshot()
    assert snapshot.live_resources == N
    model.close()
    del app
    figures = {
        "live resources": snapshot.live_resources,
        "aggregate snapshot (ms)": round(snap["snapshot"], 3),
        "export 100k, msgspec alone (ms)": round(statistics.median(exports["baseline"]), 1),
        "export 100k, model.resources + encode (ms)": round(statistics.median(exports["export"]),
                                                            1),
        "export / msgspec alone, per-round ratios": spread(export_ratio),
        "memory per resource, service + model (bytes)": round(per_resource, 1),
    }
    checks = {
        "aggregate snapshot ms": (snap["snapshot"], "<=", 1.0),
        "export / msgspec alone": (statistics.median(export_ratio), "<=", 1.5),
        "bytes per resource": (per_resource, "<=", 400),
    }
    return 0 if record("snapshot", figures, checks) else 1


if __name__ == "__main__":
    sys.exit(main())
