"""Cost of tracking: track+release against a realistic pure-Python store, in the same run.

Budgets (issues 2, 3 and 18):
* service, nothing listening, creation sites on (the default) <= 1.5x the realistic store
* the same with sites off (attach(sites=False)) <= 1.3x the realistic store
* service with a MetricsModel       <= 1.6x the realistic store
* pympler ClassTracker.track_object >= 4x the service with the model
* QObject delete with 10,000 tracked QObjects alive within 1.2x of the cost with 100 alive

Each check is the median of per-round ratios (bench/_harness.py): the cases run in rotated
order, round after round, after warm-up rounds, timed in the main thread's CPU time; the
spread of the per-round ratios is recorded with the figures.

The tracking rounds run in ``PROCESSES`` child processes, one after another, each with its
own hash seed and (where the kernel randomises it) its own address-space layout, and their
per-round ratios are pooled: one process's layout is a draw that holds for all its rounds,
and on Debian's CPython 3.11.2 single processes read the sites-off ratio anywhere in
1.23-1.40 (14 runs, before the store's lock stopped being taken by `with`; afterwards
15 processes read 1.10-1.16). Each process's median is recorded too.

Run: python bench/bench_tracking.py   (writes bench/results/tracking.json)
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

from PySide6.QtCore import QCoreApplication, QEvent, QObject

from _harness import clock_ns, per_op_us, ratios, record, sample_rounds, spread
from inspector.metrics import MetricsModel
from inspector.resources import ResourceManagementService, ResourceType

# Many short samples rather than a few long ones: a sample that a preemption or a garbage
# collection lands on is one of many, and the median of per-round ratios ignores it.
N = 5_000  # track+release pairs per sample (about 10 ms)
# Objects alive during the run, as before samples were shortened: pympler's cost includes the
# full collections its own allocations set off, which grow with the heap.
THINGS = 20_000
#: Processes the tracking rounds run in, and rounds in each (see the module docstring).
PROCESSES = 5
ROUNDS = 61
WARMUP = 5
#: What a child prints before its samples (tracking_in_processes).
_MARKER = "SAMPLES "
#: The tracking cases, the realistic store first (the baseline).
CASES = ("realistic_store", "service", "service, sites off", "service+model")
PYMPLER_OBJECTS = 2_000
PYMPLER_ROUNDS = 61
DELETED = 2_000
DELETE_ROUNDS = 9


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


def pympler_case(few: list[Thing]) -> Callable[[], float]:
    """Microseconds per ``ClassTracker.track_object`` over ``few``, on one tracker cleared
    after each sample (as an application would keep one tracker)."""
    from pympler.classtracker import ClassTracker

    tracker = ClassTracker()

    def run() -> float:
        start = clock_ns()
        for t in few:
            tracker.track_object(t)
        elapsed = (clock_ns() - start) / len(few) / 1000.0
        tracker.clear()
        return elapsed

    return run


def delete_cost(alive: int) -> float:
    """Microseconds to delete one tracked QObject (destroyed-driven release), ``alive``
    others tracked meanwhile."""
    svc = ResourceManagementService()
    parent = QObject()
    svc.register_component(parent, "Parent")
    keep = [QObject() for _ in range(alive)]
    for q in keep:
        svc.track_resource(parent, ResourceType.QOBJECT, q)
    victims = [QObject() for _ in range(DELETED)]
    for q in victims:
        svc.track_resource(parent, ResourceType.QOBJECT, q)
    del q  # the loop variable would keep the last victim alive
    gc.collect()
    start = clock_ns()
    while victims:
        victims.pop()  # Python owns them: dropping deletes them, `destroyed` fires
    elapsed = (clock_ns() - start) / DELETED / 1000.0
    live = svc.get_statistics()["by_type"]["qobject"]["live"]
    assert live == alive, (live, alive)
    del keep
    return elapsed


def _service(owner: Owner, *, capture_sites: bool = True) -> ResourceManagementService:
    """A service with ``owner`` registered."""
    service = ResourceManagementService(capture_sites=capture_sites)
    service.register_component(owner, "Owner")
    return service


def _model(service: ResourceManagementService) -> MetricsModel:
    """A started metrics model on ``service`` (the "service+model" case)."""
    model = MetricsModel(service, app="bench")
    model.start()
    return model


def tracking_rounds(rounds: int) -> dict[str, list[float]]:
    """Microseconds per track+release of each case in :data:`CASES`, round by round, in this
    process."""
    things = [Thing() for _ in range(THINGS)]
    few = things[:N]
    owner = Owner()
    baseline = RealisticStore()
    bare = _service(owner)
    siteless = _service(owner, capture_sites=False)
    watched = _service(owner)
    model = _model(watched)
    try:
        stores = dict(zip(CASES, (
            (baseline.track, baseline.release), (bare.track_resource, bare.release_resource),
            (siteless.track_resource, siteless.release_resource),
            (watched.track_resource, watched.release_resource)), strict=True))
        timed: dict[str, Callable[[], float]] = {
            name: functools.partial(per_op_us, loop(track, release, owner, few), N)
            for name, (track, release) in stores.items()}
        gc.collect()
        return sample_rounds(timed, rounds, warmup=WARMUP, rotate=True)
    finally:
        model.close()


def tracking_in_processes(count: int, rounds: int) -> list[dict[str, list[float]]]:
    """:func:`tracking_rounds` in ``count`` child processes, one after another, hash seeds
    0 to ``count - 1``."""
    found: list[dict[str, list[float]]] = []
    for seed in range(count):
        env = dict(os.environ, PYTHONHASHSEED=str(seed))
        # The child's stderr (a failure's traceback) passes through; its samples are the
        # stdout line after the marker, whatever else it printed.
        out = subprocess.run([sys.executable, __file__, "--rounds-here", str(rounds)],
                             env=env, stdout=subprocess.PIPE, text=True, check=True,
                             timeout=600)
        found.append(json.loads(out.stdout.split(_MARKER, 1)[1]))
    return found


def main() -> int:
    if sys.argv[1:2] == ["--rounds-here"]:  # one of tracking_in_processes's children
        app = QCoreApplication.instance() or QCoreApplication([])
        print(_MARKER + json.dumps(tracking_rounds(int(sys.argv[2]))), flush=True)
        del app
        return 0
    app = QCoreApplication.instance() or QCoreApplication([])
    per_process = tracking_in_processes(PROCESSES, ROUNDS)
    samples = {name: [v for run in per_process for v in run[name]] for name in CASES}
    medians = {name: statistics.median(values) for name, values in samples.items()}
    tracking = ratios(samples, "realistic_store")
    process_medians = {
        name: [round(statistics.median(ratios(run, "realistic_store")[name]), 3)
               for run in per_process]
        for name in CASES[1:]}

    things = [Thing() for _ in range(THINGS)]
    owner = Owner()
    watched = _service(owner)
    model = _model(watched)
    timed_model = functools.partial(
        per_op_us, loop(watched.track_resource, watched.release_resource, owner, things[:N]),
        N)

    # pympler against the service with the model, paired round by round in the same run
    gc.collect()
    versus = sample_rounds({"service+model": timed_model,
                            "pympler": pympler_case(things[:PYMPLER_OBJECTS])},
                           PYMPLER_ROUNDS, warmup=2, rotate=True)
    pympler = ratios(versus, "service+model")["pympler"]
    model.close()

    # destroyed-driven cleanup: cost of deleting one tracked QObject with few or many alive
    deletes = sample_rounds({"100": lambda: delete_cost(100),
                             "10000": lambda: delete_cost(10_000)},
                            DELETE_ROUNDS, warmup=1, rotate=True)
    delete_ratio = ratios(deletes, "100")["10000"]

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    del app
    figures = {
        "track+release realistic store (us)": round(medians["realistic_store"], 3),
        "track+release service (us)": round(medians["service"], 3),
        "track+release service, sites off (us)": round(medians["service, sites off"], 3),
        "track+release service+model (us)": round(medians["service+model"], 3),
        "pympler track_object (us)": round(statistics.median(versus["pympler"]), 3),
        "QObject delete, 100 alive (us)": round(statistics.median(deletes["100"]), 3),
        "QObject delete, 10000 alive (us)": round(statistics.median(deletes["10000"]), 3),
        "rounds": {"tracking": ROUNDS, "tracking processes": PROCESSES,
                   "pympler": PYMPLER_ROUNDS, "delete": DELETE_ROUNDS,
                   "ops per tracking sample": N},
        "each process's median ratio to the realistic store": process_medians,
        "per-round ratios": {
            "service / realistic store": spread(tracking["service"]),
            "service, sites off / realistic store": spread(tracking["service, sites off"]),
            "service+model / realistic store": spread(tracking["service+model"]),
            "pympler / service+model": spread(pympler),
            "delete 10000 alive / 100 alive": spread(delete_ratio),
        },
    }
    checks = {
        "service / realistic store": (statistics.median(tracking["service"]), "<=", 1.5),
        "service, sites off / realistic store":
            (statistics.median(tracking["service, sites off"]), "<=", 1.3),
        "service+model / realistic store":
            (statistics.median(tracking["service+model"]), "<=", 1.6),
        "pympler / service+model": (statistics.median(pympler), ">=", 4.0),
        "delete 10000 alive / 100 alive": (statistics.median(delete_ratio), "<=", 1.2),
    }
    return 0 if record("tracking", figures, checks) else 1


if __name__ == "__main__":
    sys.exit(main())
