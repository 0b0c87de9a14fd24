"""``RecordTable``: one table on screen, a keyed model behind a sort/filter proxy, made
from a ``TableSpec`` that says what the table shows and how."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from .columns import SORT_ROLE, Column
from .record_model import R, RecordTableModel, Tooltip


@dataclass(frozen=True)
class TableSpec(Generic[R]):
    """What a table shows: its columns, a row's identity, how rows are coloured, the
    column sorted by at first, and the first columns' widths in pixels."""

    columns: tuple[Column, ...]
    key: Callable[[R], Hashable]
    sort_column: int
    foreground: Callable[[R], QColor | None] | None = None
    tooltip: Tooltip[R] | None = None
    widths: tuple[int, ...] = ()
    sort_order: Qt.SortOrder = Qt.SortOrder.DescendingOrder


class RecordTable(Generic[R]):
    """A model, its sort/filter proxy and the view showing it."""

    def __init__(self, spec: TableSpec[R], parent: QWidget | None = None) -> None:
        self.view = QTableView(parent)
        self.model: RecordTableModel[R] = RecordTableModel(
            spec.columns, spec.key, spec.foreground, parent=self.view, tooltip=spec.tooltip)
        self.proxy = QSortFilterProxyModel(self.view)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)  # the filter matches any column
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        view = self.view
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(spec.sort_column, spec.sort_order)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        # Fixed row heights and no ResizeToContents: measuring every row on every change
        # would make a refresh cost grow with the table.
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
        header = view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for i, width in enumerate(spec.widths):
            view.setColumnWidth(i, width)

    def visible_rows(self) -> list[R]:
        """The rows as the view shows them: filtered and sorted."""
        rows = self.model.rows()
        return [rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
                for r in range(self.proxy.rowCount())]

    def selected_row(self) -> R | None:
        """The selected row, if any."""
        selected = self.view.selectionModel().selectedRows()
        if not selected:
            return None
        return self.model.rows()[self.proxy.mapToSource(selected[0]).row()]

    def selected_key(self) -> Hashable | None:
        """The key of the selected row, if any."""
        selected = self.view.selectionModel().selectedRows()
        if not selected:
            return None
        return self.model.key_at(self.proxy.mapToSource(selected[0]).row())

    def select_key(self, key: Hashable) -> bool:
        """Select the row of ``key``; False if it is not shown (absent or filtered out)."""
        row = self.model.row_of(key)
        if row is None:
            return False
        proxy_index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not proxy_index.isValid():
            return False
        self.view.selectRow(proxy_index.row())
        return True

    def set_filter(self, text: str) -> None:
        """Show only rows containing ``text`` in any column, in any case."""
        self.proxy.setFilterFixedString(text)

