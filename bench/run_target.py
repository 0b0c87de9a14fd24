"""The program `bench_run.py` times with and without `resinspect run` (it knows of neither).

    python bench/run_target.py startup   first event-loop turn (seconds since $BENCH_T0), RSS
    python bench/run_target.py work      loops of QTimer ticks and QThread starts, each timed:
                                         wall (WORK) and the process's CPU time (WORK_CPU)
"""

from __future__ import annotations

import os
import sys
import time

import shiboken6
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

#: One loop: about half a second on a quiet machine.
TICKS = 100_000
THREAD_EVERY = 100  # ticks between QThread starts: 1,000 threads in a loop
#: Loops per process, 0.1 s apart; the median is what counts. Together they take in the
#: inspector's once-a-second work (the tracker's tick and census, the sampler), which one
#: 0.2 s loop mostly missed, and one process's median is steadier than one loop (thread
#: starts on this 2-core machine vary by 15 % from one loop to the next).
REPEATS = 3


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
        self.loops = 0
        self.started = 0.0
        self.started_cpu = 0.0
        self.jobs: list[Job] = []
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self.tick)

    def start_work(self) -> None:
        self.ticks = 0
        self.jobs = []
        self.started = time.perf_counter()
        self.started_cpu = time.process_time()
        self.timer.start()

    def tick(self) -> None:
        self.ticks += 1
        sum(range(100))
        if self.ticks % THREAD_EVERY == 0:
            job = Job()
            job.finished.connect(job.deleteLater)
            job.start()
            self.jobs.append(job)
        if self.ticks >= TICKS:
            self.timer.stop()
            for job in self.jobs:
                if shiboken6.isValid(job):
                    job.wait()
            print(f"WORK {time.perf_counter() - self.started:.6f}", flush=True)
            # every thread of the process: the program's, its QThreads', the inspector's
            print(f"WORK_CPU {time.process_time() - self.started_cpu:.6f}", flush=True)
            self.loops += 1
            if self.loops < REPEATS:
                QTimer.singleShot(100, self.start_work)
            else:
                QApplication.quit()


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
    else:
        QTimer.singleShot(2000, window.start_work)  # the inspector attached and settled
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
