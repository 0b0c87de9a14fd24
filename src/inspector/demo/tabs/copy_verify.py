"""The Copy & Verify tab: evidence copied into a case directory, each copy read back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QLabel, QTableWidget, QTableWidgetItem, QWidget

from inspector.resources import Result

from ..controllers import CopyVerifyController
from ..workers import ALGORITHMS
from .base import DemoTab


class CopyVerifyTab(DemoTab):
    """One row per copied file: the copy's digest and whether it matched its source."""

    title = "Copy && Verify"  # && shows a single & in a tab title
    start_text = "Copy && verify"

    def __init__(self, controller: CopyVerifyController, parent: QWidget | None = None
                 ) -> None:
        super().__init__(controller, parent)
        self.copier = controller
        self.algorithm_combo = QComboBox(self)
        self.algorithm_combo.addItems(list(ALGORITHMS))
        self.algorithm_combo.setCurrentText("sha256")
        self.controls.insertWidget(0, self.algorithm_combo)
        self.destination_label = QLabel("Destination: a new case directory per copy", self)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["File", "Digest of the copy", "Verified"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.body.addWidget(self.destination_label)
        self.body.addWidget(self.table)
        controller.file_verified.connect(self._on_file_verified)

    def _start(self) -> Result[str]:
        result = self.copier.start(self.algorithm_combo.currentText())
        if result:
            self.table.setRowCount(0)
            self.destination_label.setText(f"Destination: {self.copier.destination}")
        return result

    def _on_file_verified(self, path: str, digest: str, ok: bool) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(Path(path).name))
        self.table.setItem(row, 1, QTableWidgetItem(digest))
        verdict = QTableWidgetItem("yes" if ok else "MISMATCH")
        verdict.setForeground(QColor("#2e7d32" if ok else "#c62828"))
        self.table.setItem(row, 2, verdict)
