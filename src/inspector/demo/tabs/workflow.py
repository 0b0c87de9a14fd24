"""The Forensic Workflow tab: one job through hashing, copy & verify, thumbnails, report."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QWidget

from inspector.resources import Result

from ..controllers import ForensicWorkflowController
from ..controllers.workflow import STEPS
from .base import DemoTab

_STATE_COLOURS = {"running": "#1565c0", "done": "#2e7d32", "cancelled": "#ef6c00",
                  "failed": "#c62828"}


class WorkflowTab(DemoTab):
    """The steps with their states, and the job's log."""

    title = "Forensic Workflow"
    start_text = "Run forensic job"

    def __init__(self, controller: ForensicWorkflowController, parent: QWidget | None = None
                 ) -> None:
        super().__init__(controller, parent)
        self.workflow = controller
        self.steps = QListWidget(self)
        self.steps.setMaximumHeight(110)
        self._items: dict[str, QListWidgetItem] = {}
        for step in STEPS:
            item = QListWidgetItem(f"{step}: waiting")
            self.steps.addItem(item)
            self._items[step] = item
        self.result_label = QLabel("No job yet.", self)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.body.addWidget(self.steps)
        self.body.addWidget(self.result_label)
        self.body.addWidget(self.log)
        controller.step_changed.connect(self._on_step_changed)
        controller.log_line.connect(self.log.appendPlainText)
        controller.workflow_finished.connect(self._on_workflow_finished)

    def _start(self) -> Result[str]:
        for step, item in self._items.items():
            item.setText(f"{step}: waiting")
            item.setForeground(QColor("#616161"))
        self.log.clear()
        result = self.workflow.start()
        if result:
            self.result_label.setText(f"Case {result.value}: running…")
        return result

    def _on_step_changed(self, step: str, state: str) -> None:
        item = self._items.get(step)
        if item is not None:
            item.setText(f"{step}: {state}")
            item.setForeground(QColor(_STATE_COLOURS.get(state, "#616161")))

    def _on_workflow_finished(self, status: str, detail: str) -> None:
        if status == "done":
            self.result_label.setText(f"Report written: {detail}")
        else:
            self.result_label.setText(f"Job {status}: {detail}".rstrip(": "))
