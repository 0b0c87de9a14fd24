"""A widget application for the reliability suite's lifecycle scenarios (run in subprocesses,
so that a crash fails one test, not the run).

``--scenario exit``: a window with the inspector docked (``--panel open|closed``), a tracked
resource whose cleanup prints ``CLEANUP``, and (``--worker running``) a worker thread that its
owner's coordinator must stop on the way out. Once ``--clients``
clients are connected to its socket it prints ``ARMED`` and leaves the way ``--exit`` names:
``quit`` (``app.quit()``), ``sys_exit`` (``sys.exit(0)`` inside a slot, which exits from within
the event loop: no ``aboutToQuit``, only interpreter exit), ``last_window_closed`` (closes the
window), ``sigterm`` (waits for the test's SIGTERM, which the app turns into ``quit()``
the way applications do) or ``sigterm_default`` (waits for a SIGTERM the app leaves to the
default: resinspect's own handler then cleans up and the process dies of the signal).
The cleanup callback prints ``CLEANUP`` and logs ``CLEANUP-LOG`` (stderr). With ``--flood`` the
app then prints 8 KiB lines from its GUI thread without end, so a test that stops reading
stdout gets the signal delivered inside a ``print()`` blocked on the full pipe.

``--quit-inside-model-call K`` calls ``quit()`` from inside the K-th Python call into one of the
dock's item models once the app runs: exactly what a SIGTERM handler that calls
``app.quit()`` does when the signal lands while Qt is asking the dock's model something
(Python runs signal handlers between any two bytecodes). ``INJECTED <where>`` says where.

``--scenario emit``: a worker thread emits progress at 1 kHz into a panel widget and into its
owning controller; ``--variant`` picks which of panel, owner and window close first and when.
The owner's coordinator must stop the worker cooperatively: ``STOPPED_MS <ms>`` is the time
from the close to the worker's end, and ``TERMINATE`` is printed if ``terminate()`` is ever
called.

``--scenario widgets``: ``--count`` tracked QWidgets (half through a UIResourceCoordinator,
half straight into the service; half parented, half top-level) are deleted with
``deleteLater()``, by a coordinator cleanup, and by their parent's deletion; ``RESULT <json>``
reports what the registry holds afterwards.

Every scenario prints ``READY <pid> <socket path or ->`` once its event loop runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QVBoxLayout, QWidget

from inspector.resources import (
    IResourceManagementService,
    ResourceManagementService,
    ResourceType,
    UIResourceCoordinator,
    WorkerResourceCoordinator,
    get_service,
)

APP_NAME = "lifecycle-app"


class Emitter(QThread):
    """A worker that emits progress every millisecond until asked to stop."""

    progress = Signal(int)

    def run(self) -> None:
        n = 0
        while not self.isInterruptionRequested():
            n += 1
            self.progress.emit(n)
            self.msleep(1)

    def terminate(self) -> None:
        # The suite's rule: cooperative stops only. Say so loudly if anyone resorts to this.
        print("TERMINATE", flush=True)
        super().terminate()


class Panel(QWidget):
    """The worker's panel: shows its progress."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("0", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        self.updates = 0

    @Slot(int)
    def on_progress(self, n: int) -> None:
        self.updates += 1
        self.label.setText(str(n))


class Controller(QObject):
    """The worker's owner: its coordinator stops the worker when the controller is destroyed."""

    def __init__(self, service: IResourceManagementService,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.coordinator = WorkerResourceCoordinator(
            "lifecycle.controller", service, stop_timeout_ms=1000).bind_to_component(
                self, "controller")
        self.seen = 0

    @Slot(int)
    def on_progress(self, n: int) -> None:
        self.seen = n


def ready(path: object) -> None:
    print(f"READY {os.getpid()} {path}", flush=True)


def quit_inside_model_call(k: int) -> None:
    """From now on, call ``quit()`` inside the k-th call into a dock model (see above)."""
    from PySide6.QtCore import QAbstractItemModel

    seen = 0

    def tracer(frame: Any, event: str, arg: Any) -> None:
        nonlocal seen
        if event != "call" or "inspector" not in frame.f_code.co_filename:
            return
        if isinstance(frame.f_locals.get("self"), QAbstractItemModel):
            seen += 1
            if seen == k:
                sys.settrace(None)
                caller = frame.f_back.f_code.co_name if frame.f_back else "?"
                print(f"INJECTED {type(frame.f_locals['self']).__name__}."
                      f"{frame.f_code.co_name} <- {caller}", flush=True)
                QCoreApplication.quit()

    sys.settrace(tracer)


# -- exit matrix -------------------------------------------------------------------------------


class Owner:
    """A plain component whose cleanup the test counts."""


def scenario_exit(args: argparse.Namespace) -> int:
    from inspector.attach import attach

    app = QApplication(sys.argv[:1])
    service = get_service(IResourceManagementService)
    owner = Owner()
    service.register_component(owner, "lifecycle.owner")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    def cleanup() -> None:
        print("CLEANUP", flush=True)
        logging.getLogger("lifecycle").warning("CLEANUP-LOG")

    service.register_cleanup(owner, cleanup)
    service.track_resource(owner, ResourceType.CUSTOM, [1, 2, 3])

    controller = Controller(service)
    if args.worker == "running":
        worker = Emitter()
        worker.start()
        controller.coordinator.track_worker(worker)

    window = QMainWindow()
    window.setCentralWidget(QLabel("lifecycle"))
    window.resize(900, 600)
    handle = attach(window, name=APP_NAME)
    if handle.server is None:
        print("NO_SERVER", flush=True)
        return 2
    window.show()
    if handle.dock is not None:
        handle.dock.set_interval(100)
        if args.panel == "closed":
            handle.dock.close()
    if args.exit != "sigterm_default":
        signal.signal(signal.SIGTERM, lambda *_: app.quit())

    server = handle.server
    armed = False

    def leave() -> None:
        if args.exit == "quit":
            app.quit()
        elif args.exit == "sys_exit":
            sys.exit(0)
        elif args.exit == "last_window_closed":
            window.close()
        # sigterm, sigterm_default: the test sends it on ARMED
        if args.flood:
            flood.start(0)

    def poll() -> None:
        nonlocal armed
        if armed or server.stats()["clients"] < args.clients:
            return
        armed = True
        print("ARMED", flush=True)
        # A short pause: attached clients have a push in flight when the exit starts.
        QTimer.singleShot(100, leave)

    line = "x" * 8191
    flood = QTimer()
    flood.timeout.connect(lambda: print(line))  # blocks once the test stops reading

    arm = QTimer()
    arm.timeout.connect(poll)
    arm.start(20)
    QTimer.singleShot(0, lambda: ready(server.path))
    if args.quit_inside_model_call:
        QTimer.singleShot(300, lambda: quit_inside_model_call(args.quit_inside_model_call))
    code = app.exec()
    print(f"EXEC_RETURNED {code}", flush=True)
    return code


# -- emit after close ---------------------------------------------------------------------------


def scenario_emit(args: argparse.Namespace) -> int:
    from inspector.attach import attach

    app = QApplication(sys.argv[:1])
    service = get_service(IResourceManagementService)
    window = QMainWindow()
    panel = Panel()
    window.setCentralWidget(panel)
    window.resize(900, 600)
    handle = attach(window, name=APP_NAME, serve=False)
    window.show()
    if handle.dock is not None:
        handle.dock.set_interval(100)
        # Built now, not in the loop's first turns: importing pyqtgraph holds the GUI thread
        # for half a second or more under load, inside this scenario's 1.8 s timeline.
        handle.dock.build_now()

    variant = args.variant
    order = variant % 4
    app.setQuitOnLastWindowClosed(False)  # closing the window must not end the run early
    # Order 2: the controller is a child of the window (Qt's ownership, no Python reference).
    controller: Controller | None = Controller(service, window if order == 2 else None)
    assert controller is not None
    worker = Emitter()
    worker.progress.connect(panel.on_progress)
    worker.progress.connect(controller.on_progress)
    worker.start()
    controller.coordinator.track_worker(worker)
    kept: list[QObject] = []
    closed_at = 0.0

    def close_them() -> None:
        nonlocal closed_at, controller
        assert controller is not None
        print(f"PANEL_UPDATES {panel.updates}", flush=True)
        closed_at = time.monotonic()
        if order == 0:  # panel, then owner, in one turn; the app still holds the owner
            panel.close()
            panel.deleteLater()
            controller.deleteLater()
            kept.append(controller)
        elif order == 1:  # the owner first, and its last Python reference dropped (the idiom
            controller.deleteLater()  # `self.ctl.deleteLater(); self.ctl = None`)
            panel.deleteLater()
        elif order == 2:  # the whole window: panel, dock and (as its child) the owner
            window.close()
            window.deleteLater()
        else:  # the owner cleaned up explicitly, then deleted, while the worker emits into it
            controller.coordinator.service.cleanup_component(controller)
            controller.deleteLater()
        controller = None

    def check_stopped() -> None:
        if closed_at and worker.isFinished():
            print(f"STOPPED_MS {(time.monotonic() - closed_at) * 1000:.1f}", flush=True)
            stop_poll.stop()

    stop_poll = QTimer()
    stop_poll.timeout.connect(check_stopped)
    stop_poll.start(2)
    # Spread the moment of the close over runs, so they hit the worker at different points.
    QTimer.singleShot(250 + 7 * (variant % 11), close_them)
    QTimer.singleShot(1800, app.quit)
    QTimer.singleShot(0, lambda: ready("-"))
    code = app.exec()
    if not worker.isFinished():
        print("WORKER_STILL_RUNNING", flush=True)
        worker.requestInterruption()
        worker.wait(2000)
    handle.close()
    print(f"EXEC_RETURNED {code}", flush=True)
    return code


# -- destroyed cleanup ------------------------------------------------------------------------


class Gallery(QObject):
    """The owner of the tracked widgets."""


def _flush_deletions() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def _live_widgets(service: ResourceManagementService) -> int:
    stats = service.get_statistics()
    return int(stats["by_type"].get("widget", {}).get("live", 0))


def scenario_widgets(args: argparse.Namespace) -> int:
    from inspector.metrics import MetricsModel

    app = QApplication(sys.argv[:1])
    service = ResourceManagementService()
    model = MetricsModel(service, app=APP_NAME)
    result: dict[str, Any] = {}
    gallery = Gallery()
    coordinator = UIResourceCoordinator("lifecycle.gallery", service).bind_to_component(
        gallery, "gallery")
    container = QWidget()
    count = args.count

    def make(n: int) -> list[QWidget]:
        made: list[QWidget] = []
        for i in range(n):
            widget = QWidget(container if i % 2 else None)
            if i % 4 < 2:
                coordinator.track_widget(widget, name=f"w{i}")
            else:
                service.track_resource(gallery, ResourceType.WIDGET, widget)
            made.append(widget)
        return made

    # 1. deleteLater() on every one, children and top-level alike.
    widgets = make(count)
    result["tracked_1"] = _live_widgets(service)
    for widget in reversed(widgets):
        widget.deleteLater()
    _flush_deletions()
    result["live_after_delete_later"] = _live_widgets(service)
    coordinator.cleanup_all()  # its handlers meet widgets that are already gone
    del widgets

    # 2. the coordinator's own cleanup closes them and deletes them later.
    widgets = make(count)
    result["tracked_2"] = _live_widgets(service)
    result["released_by_cleanup"] = service.cleanup_component(gallery)
    _flush_deletions()
    result["live_after_cleanup"] = _live_widgets(service)
    del widgets

    # 3. the parent's deletion takes the children with it (C++ deletes, Python never does).
    widgets = make(count)
    tops = [w for w in widgets if w.parent() is None]  # asked while all of them exist
    container.deleteLater()
    _flush_deletions()
    for widget in tops:
        widget.deleteLater()
    _flush_deletions()
    del widgets, tops
    result["live_after_parent_deleted"] = _live_widgets(service)

    gallery.deleteLater()
    _flush_deletions()
    stats = service.get_statistics()
    result["live"] = stats["live_resources"]
    result["components"] = stats["components"]
    result["created"] = stats["created_total"]
    result["destroyed"] = stats["destroyed_total"]
    result["suspects"] = len(model.leak_suspects())
    result["watched"] = len(service.watched())
    ready("-")
    print("RESULT " + json.dumps(result), flush=True)
    model.close()
    del app
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("exit", "emit", "widgets"), required=True)
    parser.add_argument("--exit", choices=("quit", "sys_exit", "last_window_closed", "sigterm",
                                           "sigterm_default"), default="quit")
    parser.add_argument("--flood", action="store_true")
    parser.add_argument("--panel", choices=("open", "closed"), default="open")
    parser.add_argument("--clients", type=int, default=0)
    parser.add_argument("--worker", choices=("running", "none"), default="running")
    parser.add_argument("--variant", type=int, default=0)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--quit-inside-model-call", type=int, default=0)
    args = parser.parse_args()
    scenario = {"exit": scenario_exit, "emit": scenario_emit, "widgets": scenario_widgets}
    return scenario[args.scenario](args)


if __name__ == "__main__":
    sys.exit(main())
