"""The tabs' common frame: start and cancel buttons, a progress bar and a status line.

Tabs are pure UI. Each holds one controller, hands it every user action and shows what its
signals report; the controller owns all the workers and resources, and a tab that closes
asks its controller to let go of them (:meth:`DemoTab.shutdown`).
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inspector.resources import Result

from ..controllers import JobController
from ..workers import JobOutcome


class DemoTab(QWidget):
    """A tab over a :class:`JobController`; subclasses add their controls and views.

    The tab becomes the controller's Qt parent, so the controller is deleted with the tab.
    """

    #: The tab's title in the window.
    title: ClassVar[str] = ""
    #: What the start button says.
    start_text: ClassVar[str] = "Start"

    def __init__(self, controller: JobController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        controller.setParent(self)
        layout = QVBoxLayout(self)
        self.controls = QHBoxLayout()
        self.start_button = QPushButton(self.start_text, self)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.controls.addWidget(self.start_button)
        self.controls.addWidget(self.cancel_button)
        layout.addLayout(self.controls)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 100)
        self.status_label = QLabel("Ready.", self)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        self.body = QVBoxLayout()
        layout.addLayout(self.body, stretch=1)

        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        controller.progress.connect(self._on_progress)
        controller.busy_changed.connect(self._on_busy)
        controller.job_finished.connect(self._on_job_finished)

    def add_button(self, text: str) -> QPushButton:
        """A button after the start and cancel buttons."""
        button = QPushButton(text, self)
        self.controls.addWidget(button)
        return button

    def start(self) -> bool:
        """Start the tab's job with the settings on screen; False (and why) if it can't."""
        result = self._start()
        if not result:
            self.status_label.setText(f"Not started: {result.error}")
            return False
        self.progress_bar.setValue(0)
        self.status_label.setText("Working…")
        return True

    def cancel(self) -> None:
        """Ask the running job to stop."""
        if self.controller.cancel():
            self.status_label.setText("Cancelling…")

    def shutdown(self) -> int:
        """The tab is closing: the controller stops its workers and lets go of everything
        it owns. Returns how many resources it released."""
        return self.controller.cleanup()

    def _start(self) -> Result[str]:
        """Hand the start to the controller (subclasses read their settings here)."""
        raise NotImplementedError

    def _on_progress(self, percent: int, label: str) -> None:
        self.progress_bar.setValue(percent)
        if label:
            self.status_label.setText(label)

    def _on_busy(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def _on_job_finished(self, outcome: JobOutcome) -> None:
        if outcome.status == "done":
            self.progress_bar.setValue(100)
        text = {"done": "Done.", "cancelled": "Cancelled."}.get(outcome.status)
        self.status_label.setText(text or f"Failed: {outcome.error}")
