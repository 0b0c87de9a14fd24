"""Latency of a dropped owner's cleanup, now that it runs from the event loop (never inside
the frame that dropped it; docs/architecture.md, "The interrupted-frame rule").

In a turning event loop (a 0 ms QTimer drives one drop per tick), measured from the drop to
the first cleanup callback's start:
* a plain owner whose last reference the main thread drops inside a loop callback;
* a QObject owner deleted with ``deleteLater()`` (the loop's DeferredDelete, then our hop).

Budget: the median within one loop turn's worth of time, 2 ms, on a loaded 2-core machine.

Run: python bench/bench_cleanup_latency.py   (writes bench/results/cleanup_latency.json)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from _harness import record
from inspector.resources import ResourceManagementService, ResourceType

DROPS = 2000


class Owner:
    pass


def measure(app: QCoreApplication, service: ResourceManagementService,
            make: Callable[[], object], drop: Callable[[list[object]], None]) -> list[float]:
    """Microseconds from each drop to its cleanup, over DROPS drops in a turning loop."""
    latencies: list[float] = []
    dropped_at = [0]
    done = [0]

    def cleanup() -> None:
        latencies.append((time.perf_counter_ns() - dropped_at[0]) / 1000.0)

    def tick() -> None:
        if done[0] >= DROPS:
            if len(latencies) >= DROPS:
                timer.stop()
                app.quit()
            return
        if len(latencies) < done[0]:  # the last one's cleanup has not run yet: wait a turn
            return
        owner = make()
        service.register_cleanup(owner, cleanup)
        service.track_resource(owner, ResourceType.CUSTOM, [1])
        box = [owner]
        del owner
        done[0] += 1
        dropped_at[0] = time.perf_counter_ns()
        drop(box)

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(0)
    app.exec()
    return latencies


def _drop_plain(box: list[object]) -> None:
    box.clear()  # the last reference: the owner goes here


_wrappers: list[object] = []  # kept: a Python-owned wrapper's collection deletes at once


def _delete_later(box: list[object]) -> None:
    owner = box.pop()
    assert isinstance(owner, QObject)
    owner.deleteLater()
    _wrappers.append(owner)


def main() -> int:
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    service = ResourceManagementService()
    figures: dict[str, object] = {"drops": DROPS}
    checks = {}
    for name, make, drop in (("plain owner dropped", Owner, _drop_plain),
                             ("qobject owner deleteLater", QObject, _delete_later)):
        lat = sorted(measure(app, service, make, drop))
        p50 = statistics.median(lat)
        p99 = lat[int(len(lat) * 0.99) - 1]
        figures[f"{name}: median us"] = round(p50, 1)
        figures[f"{name}: p99 us"] = round(p99, 1)
        figures[f"{name}: max us"] = round(lat[-1], 1)
        checks[f"{name}: median us"] = (p50, "<=", 2000.0)
    return 0 if record("cleanup_latency", figures, checks) else 1


if __name__ == "__main__":
    sys.exit(main())
