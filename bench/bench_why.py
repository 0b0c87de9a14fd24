"""Cost of ``why`` on a big heap: answer time and the longest the GUI thread waits meanwhile.

Budgets (issue 18):
* ``why`` on a heap of 2,000,000 objects answers within 2 s
* while it runs, no single hold of the GIL stalls another thread for more than 50 ms (the
  main thread, standing in for the GUI thread, spins and records its longest gap), on a
  machine where one ``gc.get_referrers`` of that heap takes 21 ms; elsewhere the longest gap
  is held to the same multiple of one ``gc.get_referrers`` (50/21)

Also recorded, for scale, on the same heap: one ``gc.get_objects()``, one
``gc.get_referrers()`` and one full ``gc.collect()``, each a single GIL hold.

Run: python bench/bench_why.py   (writes bench/results/why.json)
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

from PySide6.QtCore import QCoreApplication, QObject, Signal

from _harness import record
from inspector.metrics import MetricsModel
from inspector.resources import BaseResourceCoordinator, ResourceManagementService, ResourceType

HEAP = 2_000_000
ROUNDS = 3
REFERRER_SCANS = 5

_SEEN: list[object] = []


class Node:
    __slots__ = ("a", "b")

    a: list[object]
    b: object


class Tab:
    pass


class Owner:
    pass


class Bus(QObject):
    changed = Signal()


def build_heap(n: int) -> list[object]:
    # Small containers referring to each other: about n gc-tracked objects in all.
    heap: list[object] = []
    for _ in range(n // 2):
        node = Node()
        node.a = [node]
        node.b = None
        heap.append(node)
    return heap


def connect(bus: Bus, tab: Tab) -> None:
    bus.changed.connect(lambda: print(tab))


def timed_hold(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def why_with_gui_probe(model: MetricsModel, rid: str) -> tuple[float, float, bool]:
    """(answer ms, longest main-thread gap ms, complete) for one `why`."""
    result: list[object] = []
    done = threading.Event()

    def work() -> None:
        result.append(model.why(rid, budget_s=10.0))
        done.set()

    start = time.perf_counter()
    worker = threading.Thread(target=work)
    worker.start()
    longest = 0.0
    last = time.perf_counter()
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    answer = (time.perf_counter() - start) * 1000
    return answer, longest * 1000, bool(getattr(result[0], "complete", False))


def main() -> int:
    app = QCoreApplication.instance() or QCoreApplication([])
    service = ResourceManagementService()
    model = MetricsModel(service, app="bench")
    heap = build_heap(HEAP)
    objects = len(gc.get_objects())

    owner = Owner()
    coord = BaseResourceCoordinator("Owner#1", service).bind_to_component(owner)
    held = Tab()
    _SEEN.append({"entry": held})
    global_rid = coord.track(held, ResourceType.CUSTOM, name="held").resource_id
    bus = Bus()
    tab = Tab()
    connect(bus, tab)
    lambda_rid = coord.track(tab, ResourceType.WIDGET, name="tab").resource_id
    service.cleanup_component(owner)
    del held, tab

    get_objects_ms = timed_hold(gc.get_objects)
    probe = Tab()
    # The yardstick of the stall check: a median of several scans, not one that may have
    # been preempted or lucky.
    referrers_ms = statistics.median(timed_hold(lambda: gc.get_referrers(probe))
                                     for _ in range(REFERRER_SCANS))
    collect_ms = timed_hold(gc.collect)

    answers, gaps, complete = [], [], True
    for _ in range(ROUNDS):
        for rid in (global_rid, lambda_rid):
            answer, gap, ok = why_with_gui_probe(model, rid)
            answers.append(answer)
            gaps.append(gap)
            complete = complete and ok
    model.close()
    del heap, app
    figures = {
        "gc-tracked objects": objects,
        "gc.get_objects() (ms)": round(get_objects_ms, 1),
        f"gc.get_referrers(one) (ms), median of {REFERRER_SCANS}": round(referrers_ms, 1),
        "gc.collect() (ms)": round(collect_ms, 1),
        "why, slowest answer (ms)": round(max(answers), 1),
        "why, longest main-thread gap (ms)": round(max(gaps), 1),
        "why, main-thread gap of each answer (ms)": [round(g, 1) for g in gaps],
        "every chain complete": complete,
    }
    # The 50 ms stall budget was set on a machine where one scan of this heap (a single
    # gc.get_referrers, which no walk can split) takes 21 ms. Judged as a ratio to that scan,
    # measured in the same run, it holds on a slower or busier machine too; the absolute gap is
    # recorded above.
    checks = {
        "why answer (ms)": (max(answers), "<=", 2000.0),
        "longest stall / one gc.get_referrers": (max(gaps) / referrers_ms, "<=", round(50 / 21, 2)),
    }
    return 0 if record("why", figures, checks) and complete else 1


if __name__ == "__main__":
    sys.exit(main())
