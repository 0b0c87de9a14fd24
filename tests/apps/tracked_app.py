"""A small real PySide6 application with a known set of tracked resources, for end-to-end tests.

It tracks, on its own ResourceManagementService (the process's shared one):

- 3 CACHE resources of 1000 bytes each under the component ``CacheOwner``;
- 2 running QThread workers under ``WorkerOwner``;

attaches the inspector as ``tracked-app`` (no dock), prints ``READY <pid>`` once its event
loop runs, and runs until killed (SIGTERM/SIGINT quit cleanly) or for ``--seconds N``.
``--freeze-after S`` blocks the GUI thread in ``freeze_gui_thread`` for ``--freeze-for``
seconds (default 3), printing ``FROZEN`` just before, so a test can look at it meanwhile.

    python tests/apps/tracked_app.py [--seconds N] [--freeze-after S] [--freeze-for S]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

from inspector.resources import (
    IResourceManagementService,
    ResourceManagementService,
    ResourceType,
    register_service,
)

APP_NAME = "tracked-app"
CACHES = 3
CACHE_BYTES = 1000
WORKERS = 2


class SpinningWorker(QThread):
    """A worker that runs until asked to stop."""

    def run(self) -> None:
        while not self.isInterruptionRequested():
            self.msleep(20)


class CacheEntry:
    """A cache entry; weakly referenceable so the service sees it die if it is dropped."""

    def __init__(self, size: int) -> None:
        self.data = bytes(size)


def freeze_gui_thread(seconds: float) -> None:
    """Block the GUI thread: the name a test looks for in ``gui_stack``."""
    print("FROZEN", flush=True)
    time.sleep(seconds)


def attach_inspector() -> Any:
    """``attach()``: model and server on the shared service, no dock.

    Imported from its module: ``inspector.attach`` names both the function and the submodule.
    """
    from inspector.attach import attach

    return attach(name=APP_NAME, dock=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="quit after N seconds")
    parser.add_argument("--freeze-after", type=float, default=None,
                        help="block the GUI thread after S seconds")
    parser.add_argument("--freeze-for", type=float, default=3.0,
                        help="how long the GUI thread stays blocked")
    parser.add_argument("--components", type=int, default=0,
                        help="also N components Tab#1..Tab#N, Tab#i holding i KiB")
    args = parser.parse_args()

    app = QCoreApplication(sys.argv)
    service = ResourceManagementService()
    register_service(IResourceManagementService, service)

    cache_owner = QObject()
    service.register_component(cache_owner, "CacheOwner", "cache_owner")
    caches = [CacheEntry(CACHE_BYTES) for _ in range(CACHES)]
    for entry in caches:
        service.track_resource(cache_owner, ResourceType.CACHE, entry, size_bytes=CACHE_BYTES)

    worker_owner = QObject()
    service.register_component(worker_owner, "WorkerOwner", "worker_owner")
    workers = [SpinningWorker() for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
        service.track_resource(worker_owner, ResourceType.WORKER, worker)

    tabs: list[tuple[QObject, CacheEntry]] = []  # held: the service sees them live
    for i in range(1, args.components + 1):
        tab, entry = QObject(), CacheEntry(i * 1024)
        service.register_component(tab, f"Tab#{i}", "tab")
        service.track_resource(tab, ResourceType.CACHE, entry, size_bytes=i * 1024)
        tabs.append((tab, entry))

    handle = attach_inspector()

    def stop_workers() -> None:
        for worker in workers:
            worker.requestInterruption()
        for worker in workers:
            worker.wait(5000)

    app.aboutToQuit.connect(stop_workers)
    # Python runs signal handlers only when it gets control: a timer gives it control.
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    pulse = QTimer()
    pulse.timeout.connect(lambda: None)
    pulse.start(100)

    def ready() -> None:
        handle.finish()  # attach() starts its server in the loop's first turns: now, then
        print(f"READY {os.getpid()}", flush=True)

    QTimer.singleShot(0, ready)
    if args.seconds is not None:
        QTimer.singleShot(int(args.seconds * 1000), app.quit)
    if args.freeze_after is not None:
        QTimer.singleShot(int(args.freeze_after * 1000),
                          lambda: freeze_gui_thread(args.freeze_for))
    code = app.exec()
    handle.close()
    del caches
    return code


if __name__ == "__main__":
    sys.exit(main())
