"""The program `bench_run.py` times with and without `resinspect run` (it knows of neither).

    python bench/run_target.py startup   first event-loop turn (seconds since $BENCH_T0), RSS
    python bench/run_target.py serve     prints READY once settled, then works in chunks on
                                         command: a line "go N K" on stdin runs N QTimer
                                         ticks, a QThread started every K, and answers
                                         "DONE <process CPU s> <wall s>"; "quit" ends it

$BENCH_LAYOUT_SEED, when set, shifts the program's heap by a seeded amount first.
"""

from __future__ import annotations

import os
import random
import sys
import time


def _shifted_heap(seed: str) -> list[bytearray]:
    """Allocations that move where every later object of this process lands: a seeded
    0-2,999 of 1-1,023 bytes each, kept for its life (none without a seed)."""
    if not seed:
        return []
    rng = random.Random(int(seed))
    return [bytearray(rng.randrange(1, 1024)) for _ in range(rng.randrange(3000))]


#: Made before Qt is imported, so that Qt's objects move too (bench_run.py says why).
_LAYOUT = _shifted_heap(os.environ.get("BENCH_LAYOUT_SEED", ""))

import shiboken6  # noqa: E402 - after the heap is shifted
from PySide6.QtCore import QSocketNotifier, QThread, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow  # noqa: E402

#: Milliseconds from start-up to READY: the inspector has attached and settled by then.
SETTLE_MS = 2000


class Job(QThread):
    def run(self) -> None:
        sum(range(200))


def rss() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Window(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setCentralWidget(QLabel("bench"))
        self.ticks = 0
        self.goal = 0
        self.thread_every = 100  # ticks between QThread starts
        self.started = 0.0
        self.started_cpu = 0.0
        self.jobs: list[Job] = []
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self.tick)

    def start_work(self, ticks: int, thread_every: int) -> None:
        self.goal = self.ticks + ticks
        self.thread_every = thread_every
        self.jobs = []
        self.started = time.perf_counter()
        self.started_cpu = time.process_time()
        self.timer.start()

    def tick(self) -> None:
        self.ticks += 1
        sum(range(100))
        if self.ticks % self.thread_every == 0:
            job = Job()
            job.finished.connect(job.deleteLater)
            job.start()
            self.jobs.append(job)
        if self.ticks >= self.goal:
            self.timer.stop()
            for job in self.jobs:  # the chunk's threads finish inside it: their CPU counts
                if shiboken6.isValid(job):
                    job.wait()
            # every thread of the process: the program's, its QThreads', the inspector's
            cpu = time.process_time() - self.started_cpu
            print(f"DONE {cpu:.6f} {time.perf_counter() - self.started:.6f}", flush=True)


def main() -> int:
    mode = sys.argv[1]
    app = QApplication(sys.argv)
    window = Window()
    window.show()
    t0 = float(os.environ["BENCH_T0"])
    QTimer.singleShot(0, lambda: print(f"FIRST_TURN {time.time() - t0:.6f}", flush=True))
    if mode == "startup":
        # RSS once the inspector has attached and taken a census or two (no panel shown).
        QTimer.singleShot(2500, lambda: (print(f"RSS {rss()}", flush=True), app.quit()))
        return app.exec()

    def command() -> None:
        words = sys.stdin.readline().split()
        if words and words[0] == "go":
            window.start_work(int(words[1]), int(words[2]))
        else:
            app.quit()

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(command)
    QTimer.singleShot(SETTLE_MS, lambda: print("READY", flush=True))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
