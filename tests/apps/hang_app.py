"""A PySide6 application that stalls its GUI thread on command, for the freeze tests.

It attaches the inspector as ``hang-app`` (no dock, the default 200 ms hang threshold), runs
a QThread whose objectName is ``indexer-thread`` as a tracked worker of the component
``Indexer``, prints ``READY <pid>`` once its event loop runs, then takes commands on stdin,
one a line, each run on the GUI thread:

- ``stalls``: stalls the GUI thread in three named functions, letting the loop turn between
  them - ``stall_300ms`` (a busy loop), ``stall_one_second`` (``time.sleep``) and
  ``stall_three_seconds`` (a busy loop) - then prints ``OK stalls <s1> <s2> <s3>``, the
  seconds each took;
- ``native``: prints ``NATIVE_START <time.monotonic()>`` and runs one regular-expression
  search in ``match_natively``, calibrated to take about 5 s (calibration on a busy machine
  errs short), during which native code holds the GIL (no Python thread runs, the
  inspector's server included), then prints ``OK native <seconds>``.

    python tests/apps/hang_app.py [--seconds N]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal

from inspector.resources import (
    IResourceManagementService,
    ResourceManagementService,
    ResourceType,
    register_service,
)

APP_NAME = "hang-app"
THREAD_NAME = "indexer-thread"
#: Quadratic backtracking: searching "a" * n tries every start, each scanning to the end.
PATTERN = re.compile(r"a*c")
NATIVE_TARGET_S = 5.0


class Indexer(QThread):
    """A worker running Python code until asked to stop: ``dump`` must name it."""

    def run(self) -> None:
        while not self.isInterruptionRequested():
            self.msleep(20)


class Commands(QObject):
    """Carries stdin lines to the GUI thread (a queued signal)."""

    line = Signal(str)


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def stall_300ms() -> None:
    busy(0.3)


def stall_one_second() -> None:
    time.sleep(1.0)


def stall_three_seconds() -> None:
    busy(3.0)


def calibrate(target_s: float) -> str:
    """A subject for :data:`PATTERN` whose search takes about ``target_s`` and finds nothing:
    the time grows with the square of its length, measured once at a known length."""
    probe = 15_000
    costs = []
    for _ in range(3):  # the best of three: the machine may be busy
        start = time.perf_counter()
        PATTERN.search("a" * probe)
        costs.append(time.perf_counter() - start)
    return "a" * int(probe * math.sqrt(target_s / max(min(costs), 1e-6)))


def match_natively(subject: str) -> None:
    PATTERN.search(subject)


def timed(step: Callable[[], Any]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="quit after N seconds")
    args = parser.parse_args()

    app = QCoreApplication(sys.argv[:1])
    service = ResourceManagementService()
    register_service(IResourceManagementService, service)
    owner = QObject()
    service.register_component(owner, "Indexer", "indexer")
    indexer = Indexer()
    indexer.setObjectName(THREAD_NAME)
    indexer.start()
    service.track_resource(owner, ResourceType.WORKER, indexer)

    from inspector.attach import attach

    # Before the inspector starts: calibrating runs the pattern for a second or so.
    subject = calibrate(NATIVE_TARGET_S)
    handle = attach(name=APP_NAME, dock=False, hang_threshold_ms=200)

    def stalls() -> None:
        took: list[float] = []
        steps = [stall_300ms, stall_one_second, stall_three_seconds]

        def next_step() -> None:
            if not steps:
                print("OK stalls " + " ".join(f"{t:.3f}" for t in took), flush=True)
                return
            took.append(timed(steps.pop(0)))
            QTimer.singleShot(300, next_step)  # the loop turns between two stalls

        next_step()

    def native() -> None:
        print(f"NATIVE_START {time.monotonic():.3f}", flush=True)
        took = timed(lambda: match_natively(subject))
        print(f"OK native {took:.3f}", flush=True)

    handlers = {"stalls": stalls, "native": native}
    commands = Commands()
    commands.line.connect(lambda line: handlers[line]() if line in handlers else None)

    def read_stdin() -> None:
        for line in sys.stdin:
            commands.line.emit(line.strip())

    threading.Thread(target=read_stdin, name="stdin-reader", daemon=True).start()

    def stop() -> None:
        indexer.requestInterruption()
        indexer.wait(5000)

    app.aboutToQuit.connect(stop)
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    # Ready once the loop has turned a few times: the inspector's heartbeat is running.
    QTimer.singleShot(300, lambda: print(f"READY {os.getpid()}", flush=True))
    QTimer.singleShot(int(args.seconds * 1000), app.quit)
    code = app.exec()
    handle.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
