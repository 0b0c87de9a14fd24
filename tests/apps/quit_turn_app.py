"""A worker started in the same event-loop turn as ``quit()``: resinspect must stop it.

``--order track-start`` tracks the worker with its controller's coordinator, then starts it;
``start-track`` starts it first. ``--held app`` keeps a reference of the application's own;
``--held coordinator`` leaves the coordinator the only holder. Then ``quit()``, in that same
turn. The worker prints ``CANCELLED`` when asked to stop; a QThread destroyed while it still
runs makes Qt abort the process ("QThread: Destroyed while thread is still running").
"""

from __future__ import annotations

import argparse
import sys
import threading

from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

from inspector.attach import attach
from inspector.resources import (
    BaseController,
    BaseResourceCoordinator,
    IResourceManagementService,
    WorkerResourceCoordinator,
)


class Worker(QThread):
    """Waits until cancelled (30 s at most)."""

    def __init__(self) -> None:
        super().__init__()
        self.stop = threading.Event()

    def cancel(self) -> None:
        print("CANCELLED", flush=True)
        self.stop.set()

    def run(self) -> None:
        self.stop.wait(30)


class Tab(BaseController):
    """A controller whose coordinator owns workers."""

    def _create_resource_coordinator(self, component_id: str,
                                     service: IResourceManagementService | None
                                     ) -> BaseResourceCoordinator:
        return WorkerResourceCoordinator(component_id, service)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--order", choices=["track-start", "start-track"], required=True)
    parser.add_argument("--held", choices=["app", "coordinator"], required=True)
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    attach(window, name="quit-turn", dock=False)
    tab = Tab()
    kept: list[Worker] = []

    def start_and_quit() -> None:
        worker = Worker()
        if args.held == "app":
            kept.append(worker)
        resources = tab.resources
        assert isinstance(resources, WorkerResourceCoordinator)
        if args.order == "track-start":
            resources.track_worker(worker, name="late")
            worker.start()
            app.quit()
        else:
            worker.start()
            app.quit()
            resources.track_worker(worker, name="late")

    QTimer.singleShot(100, start_and_quit)
    code = app.exec()
    print(f"EXEC_RETURNED {code}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
