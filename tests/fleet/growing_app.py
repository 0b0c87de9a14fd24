"""A PySide6 application whose resources change on command, for the time and fleet tests.

It attaches the inspector as ``growing-app`` (or ``--name``), prints ``READY <pid>`` once
its event loop runs, then takes commands on stdin, one a line, each answered with
``OK <command> live=<n>`` on stdout once done:

- ``open N``: open N tabs. Each is a ``MediaAnalysisController#k`` (k counts up from 1 over
  the whole run) tracking a ``THUMBNAIL_BYTES`` thumbnail and one running worker thread;
- ``close``: close every open tab properly (``cleanup_component``: its cleanup callback
  stops the worker, its resources are released);
- ``leak``: close every open tab but forget the cleanup - the controllers stay registered,
  their thumbnails and running workers with them, as a real leak does;
- ``hold``: close every open tab properly, but a lambda connected to a signal of the
  application still refers to each controller: they release everything and stay alive (the
  tab leak ``instances:`` budgets catch and ``live:`` ones cannot);
- ``quit``.

End of stdin quits too, as do SIGTERM and SIGINT.

    python tests/fleet/growing_app.py [--name NAME]
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import sys
import threading

from PySide6.QtCore import QCoreApplication, QThread, QTimer

from inspector.resources import (
    IResourceManagementService,
    ResourceManagementService,
    ResourceType,
    register_service,
)

THUMBNAIL_BYTES = 4 * 1024 * 1024


class AnalysisWorker(QThread):
    """A worker that runs until asked to stop."""

    def run(self) -> None:
        while not self.isInterruptionRequested():
            self.msleep(20)


class Thumbnail:
    """A decoded thumbnail (its size is declared, not allocated: the test needs numbers)."""


class MediaAnalysisController:
    """What a tab owns: a thumbnail and a worker."""

    def __init__(self, service: ResourceManagementService, number: int) -> None:
        self.id = f"MediaAnalysisController#{number}"
        self.thumbnail = Thumbnail()
        self.worker = AnalysisWorker()
        service.register_component(self, self.id, "controller")
        service.track_resource(self, ResourceType.THUMBNAIL, self.thumbnail,
                               size_bytes=THUMBNAIL_BYTES)
        self.worker.start()
        service.track_resource(self, ResourceType.WORKER, self.worker)
        service.register_cleanup(self, self.stop)

    def stop(self) -> None:
        self.worker.requestInterruption()
        self.worker.wait(5000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="growing-app")
    args = parser.parse_args()

    app = QCoreApplication(sys.argv)
    service = ResourceManagementService()
    register_service(IResourceManagementService, service)
    from inspector.attach import attach

    handle = attach(name=args.name, dock=False)
    tabs: list[MediaAnalysisController] = []
    leaked: list[MediaAnalysisController] = []
    opened = 0
    commands: queue.Queue[str] = queue.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            commands.put(line.strip())
        commands.put("quit")

    def run(command: str) -> None:
        nonlocal opened
        verb, _, arg = command.partition(" ")
        if verb == "open":
            for _ in range(int(arg or "1")):
                opened += 1
                tabs.append(MediaAnalysisController(service, opened))
        elif verb == "close":
            for tab in tabs:
                service.cleanup_component(tab)
            tabs.clear()
        elif verb == "leak":
            leaked.extend(tabs)  # closed on screen, still referenced and never cleaned up
            tabs.clear()
        elif verb == "hold":
            for tab in tabs:
                service.cleanup_component(tab)
                app.aboutToQuit.connect(lambda tab=tab: tab.stop())
            tabs.clear()
        elif verb == "quit":
            app.quit()
            return
        else:
            print(f"ERROR unknown command {command!r}", flush=True)
            return
        live = service.get_statistics().get("live_resources", "?")
        print(f"OK {command} live={live}", flush=True)

    def poll() -> None:
        # Commands run on the GUI thread, where the application's own code would run.
        while True:
            try:
                command = commands.get_nowait()
            except queue.Empty:
                return
            if command:
                run(command)

    def stop_all() -> None:
        for tab in (*tabs, *leaked):
            tab.stop()

    app.aboutToQuit.connect(stop_all)
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    pump = QTimer()
    pump.timeout.connect(poll)
    pump.start(20)
    threading.Thread(target=read_stdin, daemon=True).start()
    def ready() -> None:
        handle.finish()  # attach() starts its server in the loop's first turns: now, then
        print(f"READY {os.getpid()}", flush=True)

    QTimer.singleShot(0, ready)
    code = app.exec()
    handle.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
