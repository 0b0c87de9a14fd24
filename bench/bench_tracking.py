"""Cost of tracking: track+release against a realistic pure-Python store, in the same run.

Budgets (issues 2, 3 and 18):
* service, nothing listening, creation sites on (the default) <= 1.5x the realistic store
* the same with sites off (attach(sites=False)) <= 1.3x the realistic store
* service with a MetricsModel       <= 1.6x the realistic store
* pympler ClassTracker.track_object >= 4x the service with the model
* QObject delete with 10,000 tracked QObjects alive within 1.2x of the cost with 100 alive

Run: python bench/bench_tracking.py   (writes bench/results/tracking.json)
"""

from __future__ import annotations

import functools
import gc
import itertools
import os
import sys
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

from PySide6.QtCore import QCoreApplication, QEvent, QObject

from _harness import interleaved, paired, per_op_us, record
from inspector.metrics import MetricsModel
from inspector.resources import ResourceManagementService, ResourceType

N = 20_000
ROUNDS = 41


class Thing:
    __slots__ = ("__weakref__",)


class Owner:
    pass


class _Rec:
    __slots__ = ("created", "owner", "ref", "rid", "rtype", "size", "thread")

    rid: str
    owner: int
    rtype: ResourceType
    size: int
    ref: weakref.ref[object]
    created: float
    thread: int


class RealisticStore:
    """The baseline of issue 2: lock, counter id, weakref with callback, a slots record
    with time and thread, two dict indexes."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.records: dict[str, _Rec] = {}
        self.by_owner: defaultdict[int, dict[str, _Rec]] = defaultdict(dict)
        self._cb = self._collected

    def _collected(self, ref: object) -> None:
        pass

    def track(self, owner: object, rtype: ResourceType, obj: object, size: int) -> str:
        with self.lock:
            rid = str(next(self.ids))
            rec = _Rec()
            rec.rid = rid
            rec.owner = id(owner)
            rec.rtype = rtype
            rec.size = size
            rec.ref = weakref.ref(obj, self._cb)
            rec.created = time.monotonic()
            rec.thread = threading.get_ident()
            self.records[rid] = rec
            self.by_owner[rec.owner][rid] = rec
        return rid

    def release(self, owner: object, rid: str) -> bool:
        with self.lock:
            rec = self.records.pop(rid, None)
            if rec is None:
                return False
            del self.by_owner[rec.owner][rid]
        return True


def loop(track, release, owner: object, things: list[Thing]):  # type: ignore[no-untyped-def]
    cache = ResourceType.CACHE

    def run() -> None:
        for t in things:
            release(owner, track(owner, cache, t, 64))

    return run


def main() -> int:
    app = QCoreApplication.instance() or QCoreApplication([])
    things = [Thing() for _ in range(N)]
    owner = Owner()

    baseline = RealisticStore()
    bare = ResourceManagementService()
    bare.register_component(owner, "Owner")
    siteless = ResourceManagementService(capture_sites=False)
    siteless.register_component(owner, "Owner")
    watched = ResourceManagementService()
    watched.register_component(owner, "Owner")
    model = MetricsModel(watched, app="bench")
    model.start()

    cases = {
        "realistic_store": loop(baseline.track, baseline.release, owner, things),
        "service": loop(bare.track_resource, bare.release_resource, owner, things),
        "service, sites off": loop(siteless.track_resource, siteless.release_resource, owner,
                                   things),
        "service+model": loop(watched.track_resource, watched.release_resource, owner, things),
    }
    timed: dict[str, Callable[[], float]] = {
        name: functools.partial(per_op_us, fn, N) for name, fn in cases.items()}
    for fn in cases.values():  # warm up
        fn()
    medians, ratios = paired(timed, ROUNDS, baseline="realistic_store")

    from pympler.classtracker import ClassTracker

    tracker = ClassTracker()
    few = things[:2000]

    def pympler_run() -> float:
        start = time.perf_counter_ns()
        for t in few:
            tracker.track_object(t)
        elapsed = (time.perf_counter_ns() - start) / len(few) / 1000.0
        tracker.clear()
        return elapsed

    pympler_us = interleaved({"pympler": pympler_run}, 5)["pympler"]
    model.close()

    # destroyed-driven cleanup: cost of deleting one tracked QObject with few or many alive
    def delete_cost(alive: int) -> float:
        svc = ResourceManagementService()
        parent = QObject()
        svc.register_component(parent, "Parent")
        keep = [QObject() for _ in range(alive)]
        for q in keep:
            svc.track_resource(parent, ResourceType.QOBJECT, q)
        victims = [QObject() for _ in range(2000)]
        for q in victims:
            svc.track_resource(parent, ResourceType.QOBJECT, q)
        del q  # the loop variable would keep the last victim alive
        gc.collect()
        start = time.perf_counter_ns()
        while victims:
            victims.pop()  # Python owns them: dropping deletes them, `destroyed` fires
        elapsed = (time.perf_counter_ns() - start) / 2000 / 1000.0
        live = svc.get_statistics()["by_type"]["qobject"]["live"]
        assert live == alive, (live, alive)
        del keep
        return elapsed

    deletes = interleaved({"100": lambda: delete_cost(100), "10000": lambda: delete_cost(10_000)},
                          5)

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    del app
    figures = {
        "track+release realistic store (us)": round(medians["realistic_store"], 3),
        "track+release service (us)": round(medians["service"], 3),
        "track+release service, sites off (us)": round(medians["service, sites off"], 3),
        "track+release service+model (us)": round(medians["service+model"], 3),
        "pympler track_object (us)": round(pympler_us, 3),
        "QObject delete, 100 alive (us)": round(deletes["100"], 3),
        "QObject delete, 10000 alive (us)": round(deletes["10000"], 3),
    }
    checks = {
        "service / realistic store": (ratios["service"], "<=", 1.5),
        "service, sites off / realistic store": (ratios["service, sites off"], "<=", 1.3),
        "service+model / realistic store": (ratios["service+model"], "<=", 1.6),
        "pympler / service+model": (pympler_us / medians["service+model"], ">=", 4.0),
        "delete 10000 alive / 100 alive": (deletes["10000"] / deletes["100"], "<=", 1.2),
    }
    return 0 if record("tracking", figures, checks) else 1


if __name__ == "__main__":
    sys.exit(main())
