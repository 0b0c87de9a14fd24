"""What `resinspect run`'s patch on ``QThread.start`` costs each start, in a real loop.

The work budget of `resinspect run` (bench_run.py: a loop that starts a QThread every 100
timer ticks, at most 3 % slower) cannot tell the patch from the rest of the inspector, nor
either from the differences between processes. This measures the patch alone, in one
process, against ``QThread.start`` unpatched in the same rounds:

* ``plain``: Qt's own ``start``;
* ``wrapper``: a Python function that only calls it, the least any patch costs;
* ``hook``: the patch `resinspect run` installs (``hooks._start_patch``), which notes the
  start for the tracker's next tick.

Each sample starts 200 QThreads (a parentless Python ``run()``, a ``deleteLater`` on
``finished``) from a method, with other Python work and an event-loop turn between starts,
so caches are as cold as in a program; the patched method is swapped each round, in an
order that turns, and the process is on one CPU. Figures are microseconds of CPU time added
to a start (whole process: the started threads run on the same CPU), medians over rounds.
Recorded, not judged: what a budget on it should be is an open question (docs/
architecture.md, "Budgets").

    python bench/bench_start_hook.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _harness import one_cpu, record, sample_rounds, spread

STARTS = 200
#: Python work between two starts (a program does something between them).
BETWEEN = 3000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import shiboken6
    from PySide6.QtCore import QCoreApplication, QThread

    from inspector.reach import hooks

    app = QCoreApplication.instance() or QCoreApplication([])
    original = QThread.__dict__["start"]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, *args, **kwargs)

    variants: dict[str, Callable[..., Any]] = {
        "plain": original, "wrapper": wrapper,
        "hook": hooks._start_patch(hooks.THREAD)(original)}  # what run installs

    class Job(QThread):
        def run(self) -> None:
            sum(range(200))

    class Starter:
        def go(self) -> None:
            jobs = []
            for _ in range(STARTS):
                job = Job()
                job.finished.connect(job.deleteLater)
                job.start()
                jobs.append(job)
                app.processEvents()
                sum(range(BETWEEN))
            for job in jobs:
                if shiboken6.isValid(job):
                    job.wait()
            app.processEvents()

    starter = Starter()

    def case(name: str) -> Callable[[], float]:
        def sample() -> float:
            QThread.start = variants[name]  # type: ignore[method-assign]
            started = time.process_time()
            starter.go()
            took = time.process_time() - started
            hooks.started.clear()  # what the tracker's tick would take
            hooks.known.clear()
            return took
        return sample

    with one_cpu():  # the started threads run on the same CPU
        try:
            samples = sample_rounds({name: case(name) for name in variants}, args.rounds,
                                    warmup=5, rotate=True)
        finally:
            QThread.start = original  # type: ignore[method-assign]
    per_start = {name: [s / STARTS * 1e6 for s in values] for name, values in samples.items()}
    added = {name: [v - p for v, p in zip(per_start[name], per_start["plain"], strict=True)]
             for name in ("wrapper", "hook")}
    figures = {"rounds": args.rounds, "starts_per_sample": STARTS,
               "plain_start_us": round(statistics.median(per_start["plain"]), 1),
               "wrapper_added_us": round(statistics.median(added["wrapper"]), 2),
               "hook_added_us": round(statistics.median(added["hook"]), 2),
               "hook_added_spread_us": spread(added["hook"]),
               "hook_over_plain": round(statistics.median(
                   h / p for h, p in zip(per_start["hook"], per_start["plain"], strict=True)),
                   4)}
    record("start_hook", figures, {})
    return 0


if __name__ == "__main__":
    sys.exit(main())
