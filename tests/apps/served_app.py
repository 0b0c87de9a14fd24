"""A headless application that serves its inspector socket, for the reliability suite.

It registers ``--components`` components with one 100-byte CACHE resource each (so that
snapshots are as big as a busy application's), serves them, and runs a 10 ms heartbeat timer
on the GUI thread that measures the longest gap between its ticks: the figure that shows
whether anything the inspector did ever held up the application's event loop. On SIGTERM or
SIGINT it quits and prints ``HEARTBEAT max_gap_ms=<ms> ticks=<n>``.

With no server option it instruments itself with ``attach()``, as a real application does;
given ``--stall-timeout``, ``--max-queue`` or ``--max-clients`` it builds the model and the
``InspectorServer`` itself with those bounds (attach() takes none). It prints
``SERVER_START_S <seconds>`` (how long starting the server took, stale-socket removal
included) and then ``READY <pid> <socket path>`` once its event loop runs.

    python tests/apps/served_app.py [--components N] [--stall-timeout S] [--max-queue B]
                                    [--max-clients N] [--heartbeat-ms MS]

``--heartbeat-ms 0`` leaves out the heartbeat: the event loop then idles in C++ between the
probe's ticks, as a quiet real application's does.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from inspector.resources import (
    IResourceManagementService,
    ResourceManagementService,
    ResourceType,
    register_service,
)

APP_NAME = "served-app"
HEARTBEAT_MS = 10


class Entry:
    """A tracked cache entry (weakly referenceable, so it could release itself)."""

    __slots__ = ("__weakref__", "data")

    def __init__(self) -> None:
        self.data = b""


class Heartbeat:
    """Measures the longest gap between ticks of a timer on the GUI thread."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.max_gap = 0.0
        self.ticks = 0

    def tick(self) -> None:
        now = time.monotonic()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.ticks += 1


def serve(service: ResourceManagementService, args: argparse.Namespace) -> tuple[Any, Any]:
    """(closeable, server): attach() by default, or an explicitly bounded server."""
    knobs = {k: v for k, v in (("stall_timeout", args.stall_timeout),
                               ("max_queue", args.max_queue),
                               ("max_clients", args.max_clients)) if v is not None}
    if not knobs:
        from inspector.attach import attach

        handle = attach(name=APP_NAME, service=service, dock=False)
        return handle, handle.server

    from inspector.metrics import MetricsModel
    from inspector.server import InspectorServer

    model = MetricsModel(service, app=APP_NAME)
    model.start()
    server = InspectorServer(model, **knobs).start()

    class Both:
        def close(self) -> None:
            server.close()
            model.close()

    return Both(), server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--stall-timeout", type=float, default=None)
    parser.add_argument("--max-queue", type=int, default=None)
    parser.add_argument("--max-clients", type=int, default=None)
    parser.add_argument("--heartbeat-ms", type=int, default=HEARTBEAT_MS)
    args = parser.parse_args()

    app = QCoreApplication(sys.argv[:1])
    service = ResourceManagementService()
    register_service(IResourceManagementService, service)
    owners = [QObject() for _ in range(args.components)]
    entries = [Entry() for _ in owners]
    for i, (owner, entry) in enumerate(zip(owners, entries, strict=True)):
        service.register_component(owner, f"served.component-{i:05d}", "served")
        service.track_resource(owner, ResourceType.CACHE, entry, size_bytes=100)

    started = time.monotonic()
    handle, server = serve(service, args)
    print(f"SERVER_START_S {time.monotonic() - started:.4f}", flush=True)
    if server is None:
        print("NO_SERVER", flush=True)
        return 2

    beat = Heartbeat()
    timer = QTimer()
    if args.heartbeat_ms > 0:
        timer.setInterval(args.heartbeat_ms)
        timer.timeout.connect(beat.tick)
        timer.start()
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())

    def ready() -> None:
        beat.last = time.monotonic()  # measure the running loop, not start-up
        print(f"READY {os.getpid()} {server.path}", flush=True)

    QTimer.singleShot(0, ready)
    code = app.exec()
    handle.close()
    print(f"HEARTBEAT max_gap_ms={beat.max_gap * 1000:.1f} ticks={beat.ticks}", flush=True)
    del entries
    return code


if __name__ == "__main__":
    sys.exit(main())
