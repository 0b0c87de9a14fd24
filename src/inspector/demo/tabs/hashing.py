"""The Hashing tab: digests of every evidence file, with the algorithms ticked."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from inspector.resources import Result

from ..controllers import HashController
from ..workers import ALGORITHMS
from .base import DemoTab


class HashingTab(DemoTab):
    """A table with one row per file and one column per algorithm."""

    title = "Hashing"
    start_text = "Hash evidence"

    def __init__(self, controller: HashController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.hasher = controller
        self.algorithm_boxes: dict[str, QCheckBox] = {}
        for index, name in enumerate(ALGORITHMS):
            box = QCheckBox(name, self)
            box.setChecked(name in ("md5", "sha256"))
            self.controls.insertWidget(index, box)
            self.algorithm_boxes[name] = box
        self.table = QTableWidget(0, 1, self)
        self.table.setHorizontalHeaderLabels(["File"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.body.addWidget(self.table)
        self._algorithms: list[str] = []
        controller.file_hashed.connect(self._on_file_hashed)

    def selected_algorithms(self) -> list[str]:
        """The ticked algorithms, in the order shown."""
        return [name for name, box in self.algorithm_boxes.items() if box.isChecked()]

    def _start(self) -> Result[str]:
        self._algorithms = self.selected_algorithms()
        result = self.hasher.start(self._algorithms)
        if result:
            self.table.setRowCount(0)
            self.table.setColumnCount(1 + len(self._algorithms))
            self.table.setHorizontalHeaderLabels(["File", *self._algorithms])
        return result

    def _on_file_hashed(self, path: str, digests: object) -> None:
        if not isinstance(digests, dict):
            return
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(Path(path).name))
        for column, name in enumerate(self._algorithms, start=1):
            self.table.setItem(row, column, QTableWidgetItem(str(digests.get(name, ""))))
