"""A program never written for resinspect: it opens a report dialog, closes it, opens another.

    python tests/apps/dialog_app.py leak|fixed|reuse [--every-ms MS]

* ``leak``: each dialog connects a lambda that captures it to a long-lived signal (an
  application-wide bus), so every closed dialog stays alive: ``retained_after_close``;
* ``fixed``: the dialog connects a bound method and disconnects it when it is done, so a
  closed dialog goes with its last reference;
* ``reuse``: one dialog instance, shown and closed again and again.

It prints ``READY <pid>`` once its event loop runs and ``CLOSED <n>`` as it closes dialog
``n``; SIGINT or SIGTERM quits it (status 0).
"""

from __future__ import annotations

import argparse
import signal
import sys

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMainWindow, QVBoxLayout


class Bus(QObject):
    """Lives as long as the application: what a signal connected to it captures stays."""

    changed = Signal()


BUS = Bus()


class ReportDialog(QDialog):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.setWindowTitle("Report")
        layout = QVBoxLayout(self)
        self.label = QLabel("figures", self)
        layout.addWidget(self.label)
        if mode == "leak":
            BUS.changed.connect(lambda: self.label.setText("refreshed"))
        else:
            BUS.changed.connect(self.refresh)

    def refresh(self) -> None:
        self.label.setText("refreshed")

    def done(self, result: int) -> None:
        if self.mode == "fixed":
            BUS.changed.disconnect(self.refresh)
        super().done(result)


class Main(QMainWindow):
    def __init__(self, mode: str, every_ms: int) -> None:
        super().__init__()
        self.setWindowTitle("dialog app")
        self.mode = mode
        self.opened = 0
        self.dialog: ReportDialog | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.open_report)
        self.timer.start(every_ms)

    def open_report(self) -> None:
        if self.mode != "reuse" or self.dialog is None:
            self.dialog = ReportDialog(self.mode)  # the previous one is dropped here
        self.opened += 1
        dialog, number = self.dialog, self.opened
        dialog.show()
        BUS.changed.emit()

        def close() -> None:
            dialog.close()
            print(f"CLOSED {number}", flush=True)

        QTimer.singleShot(300, close)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("leak", "fixed", "reuse"))
    parser.add_argument("--every-ms", type=int, default=1500)
    args = parser.parse_args()
    app = QApplication(sys.argv)
    window = Main(args.mode, args.every_ms)
    window.show()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    QTimer.singleShot(0, lambda: print(f"READY {QApplication.applicationPid()}", flush=True))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
