"""Small programs for `resinspect run` tests.

    python tests/apps/reach_app.py early     attach() before the QApplication, then a freeze
    python tests/apps/reach_app.py hooked    says whether Qt's classes are patched
    python tests/apps/reach_app.py merged    a controller with a coordinator, plus raw Qt

``early`` prints ``OBSERVED <bool>`` (whether thread starts are patched) and ``LAG <ms>``,
the largest event-loop lag the inspector reported during a 1.5 s freeze of its GUI thread.
``hooked`` prints ``HOOKED <bool>``. ``merged`` tracks one worker through a controller before
starting it, one after, and starts a third and a timer on a window with no tracking at all;
it prints ``READY <pid>`` and quits on SIGINT.
"""

from __future__ import annotations

import signal
import sys
import threading
import time


def early() -> int:
    from inspector import attach

    handle = attach(name="early", serve=False)  # no QApplication yet
    from PySide6.QtCore import QThread, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    # attach() waits for the application; it does not listen to the program's threads.
    print(f"OBSERVED {hasattr(QThread.start, '__resinspect_original__')}", flush=True)
    assert handle.model is not None
    model = handle.model
    worst = [0.0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            worst[0] = max(worst[0], model.probe.read()[0])
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def freeze() -> None:
        time.sleep(1.5)
        QTimer.singleShot(200, app.quit)

    QTimer.singleShot(300, freeze)
    app.exec()
    done.set()
    watcher.join()
    print(f"LAG {worst[0]:.0f}", flush=True)
    handle.close()
    return 0


def hooked() -> int:
    from PySide6.QtCore import QCoreApplication, QThread

    app = QCoreApplication(sys.argv)
    print(f"HOOKED {hasattr(QThread.start, '__resinspect_original__')}", flush=True)
    del app
    return 0


def merged() -> int:
    from PySide6.QtCore import QThread, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    from inspector.resources import BaseController, WorkerResourceCoordinator

    class Sleeper(QThread):
        def run(self) -> None:
            while not self.isInterruptionRequested():
                self.msleep(20)

    class JobsController(BaseController):
        def _create_resource_coordinator(self, component_id, service):  # type: ignore[no-untyped-def]
            return WorkerResourceCoordinator(component_id, service)

    class Window(QMainWindow):
        def __init__(self) -> None:
            super().__init__()
            self.controller = JobsController()
            self.first, self.second, self.raw = Sleeper(), Sleeper(), Sleeper(self)
            self.controller.resources.track_worker(self.first, name="first")  # type: ignore[attr-defined]
            self.first.start()
            self.second.start()
            self.raw.start()
            self.timer = QTimer(self)
            self.timer.start(100)

        def track_late(self) -> None:
            self.controller.resources.track_worker(self.second, name="second")  # type: ignore[attr-defined]

        def stop(self) -> None:
            for t in (self.first, self.second, self.raw):
                t.requestInterruption()
                t.wait()

    app = QApplication(sys.argv)
    window = Window()
    window.show()
    QTimer.singleShot(1500, window.track_late)  # after the inspector attached and tracked it
    QTimer.singleShot(1600, lambda: print(f"READY {QApplication.applicationPid()}",
                                          flush=True))

    def quit_(*_: object) -> None:
        window.stop()
        app.quit()

    signal.signal(signal.SIGINT, quit_)
    return app.exec()


if __name__ == "__main__":
    sys.exit({"early": early, "hooked": hooked, "merged": merged}[sys.argv[1]]())
