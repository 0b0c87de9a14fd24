"""``InspectorTables``: the dock's tabs of tables over a snapshot.

Components (with the selected component's resources under them), leak suspects (with the
selected suspect's `why`), workers and the teardown audit. Each table is a ``RecordTable``
(``record_table.py``) of named rows (``rows.py``), so the user's sort, scroll position and
selection survive every refresh.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, QSize, Qt, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from inspector.metrics.snapshot import ResourcePage, Snapshot

from .labels import plain_label
from .record_model import RecordTableModel
from .record_table import RecordTable
from .rows import (
    AUDITS,
    COMPONENTS,
    RESOURCES,
    SUSPECTS,
    WORKERS,
    audit_rows,
    component_rows,
    resource_rows,
    suspect_rows,
    worker_rows,
)
from .why import WhyLabel, WhySource

__all__ = ["InspectorTables", "RecordTable", "RecordTableModel"]

_NO_COMPONENT = "Select a component to list its resources."
_TITLES = ("Components", "Leak suspects", "Workers", "Teardown")


class InspectorTables(QTabWidget):
    """Tabs of tables over a snapshot; the components tab also lists the selected
    component's resources, which the owner fetches when ``componentSelected`` fires."""

    #: The selected component's id, or ``""`` when the selection is cleared.
    componentSelected = Signal(str)  # Qt's camelCase signal naming

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._selected: str = ""

        page = QSplitter(Qt.Orientation.Vertical, self)
        self.components = RecordTable(COMPONENTS, page)
        lower = QWidget(page)
        layout = QVBoxLayout(lower)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.resources_label = plain_label(_NO_COMPONENT, lower)  # names a component
        self.resources = RecordTable(RESOURCES, lower)
        layout.addWidget(self.resources_label)
        layout.addWidget(self.resources.view)
        page.addWidget(self.components.view)
        page.addWidget(lower)
        self.addTab(page, _TITLES[0])

        suspects_page = QSplitter(Qt.Orientation.Vertical, self)
        self.suspects = RecordTable(SUSPECTS, suspects_page)
        self.why_label = WhyLabel(suspects_page)
        suspects_page.addWidget(self.suspects.view)
        suspects_page.addWidget(self.why_label)
        self.addTab(suspects_page, _TITLES[1])
        self.workers = RecordTable(WORKERS, self)
        self.addTab(self.workers.view, _TITLES[2])
        self.audits = RecordTable(AUDITS, self)
        self.addTab(self.audits.view, _TITLES[3])

        self.suspects.view.selectionModel().selectionChanged.connect(self._on_suspect_selection)
        self.components.view.selectionModel().selectionChanged.connect(
            self._on_component_selection
        )

    def sizeHint(self) -> QSize:
        """Smaller than the plots: the splitter gives the plots the larger share."""
        return QSize(640, 260)

    @property
    def all_tables(self) -> tuple[RecordTable[Any], ...]:
        """Every table, the resources table included."""
        return (self.components, self.resources, self.suspects, self.workers, self.audits)

    def set_snapshot(self, snapshot: Snapshot) -> bool:
        """Update every snapshot table; True if any of them changed."""
        resets = self.components.model.resets
        changed = self.components.model.set_rows(component_rows(snapshot))
        if (
            self.components.model.resets != resets
            and self._selected
            and not self.select_component(self._selected)  # a reset drops the selection
        ):
            self._selected = ""
            self.componentSelected.emit("")
        changed = self.suspects.model.set_rows(suspect_rows(snapshot)) or changed
        changed = self.workers.model.set_rows(worker_rows(snapshot)) or changed
        changed = self.audits.model.set_rows(audit_rows(snapshot)) or changed
        counted: tuple[RecordTable[Any], ...] = (self.suspects, self.workers, self.audits)
        for index, table in enumerate(counted, start=1):
            n = table.model.rowCount()
            title = f"{_TITLES[index]} ({n})" if n else _TITLES[index]
            if self.tabText(index) != title:
                self.setTabText(index, title)
        return changed

    def set_resources(self, page: ResourcePage | None, component_id: str) -> None:
        """Show ``page`` as the resources of ``component_id`` (None clears the table)."""
        if page is None:
            self.resources.model.clear()
            self.resources_label.setText(_NO_COMPONENT)
            return
        self.resources.model.set_rows(resource_rows(page))
        shown = len(page.items)
        more = f" (first {shown} of {page.total})" if page.total > shown else ""
        self.resources_label.setText(f"Resources of {component_id}: {page.total}{more}")

    def set_why_source(self, source: WhySource | None) -> None:
        """What answers `why` for a selected suspect (``MetricsModel.why``); None: nothing."""
        self.why_label.source = source

    def _on_suspect_selection(self, _selected: QItemSelection, _deselected: object) -> None:
        row = self.suspects.selected_row()
        if row is not None:
            self.why_label.ask(row.resource_id)

    def set_filter(self, text: str) -> None:
        """Show only rows containing ``text`` (any column, any case) in every snapshot table.

        The resources table is left alone: it is already narrowed to the selected component.
        """
        for table in (self.components, self.suspects, self.workers, self.audits):
            table.set_filter(text)

    def selected_component(self) -> str:
        """The selected component's id, or ``""``."""
        return self._selected

    def select_component(self, component_id: str) -> bool:
        """Select ``component_id``'s row in the components table; False if it isn't shown."""
        return self.components.select_key(component_id)

    def clear_rows(self) -> None:
        """Empty every table (a new source, or nothing to show)."""
        for table in self.all_tables:
            table.model.clear()
        if self._selected:
            self._selected = ""
            self.componentSelected.emit("")

    def _on_component_selection(self, _selected: QItemSelection, _deselected: object) -> None:
        key = self.components.selected_key()
        component_id = "" if key is None else str(key)
        if component_id != self._selected:
            self._selected = component_id
            self.componentSelected.emit(component_id)
