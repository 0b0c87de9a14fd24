"""``RecordTableModel``: a Qt table model of immutable rows, updated in place by key.

A refresh hands the model the new rows; the model keeps its rows in a stable order keyed by
identity and reports only what changed (``dataChanged`` for changed values, row inserts and
removals for new and vanished keys), so the user's sort column, scroll position and
selection survive every refresh. A full reset happens only when most rows vanish at once.
Rows are tuples (the tables' rows are ``NamedTuple``s, see ``rows.py``): cell ``i`` of a
row is its field ``i``, and a row may carry fields past the columns for its owner's use.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from .columns import SORT_ROLE, Column
from .labels import plain_tooltip

R = TypeVar("R", bound=tuple[Any, ...])
AnyIndex = QModelIndex | QPersistentModelIndex
#: A row's tooltip for a column, or None for the column's default (the whole text value).
Tooltip = Callable[[R, int], str | None]

_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class RecordTableModel(QAbstractTableModel, Generic[R]):
    """Rows of plain tuples, updated in place by key.

    ``key`` names a row's identity (a component id, a resource id…); rows keep their
    position while their key lives, so persistent indexes and selections stay valid.
    ``foreground`` colours a row, ``tooltip`` overrides a cell's tooltip. ``resets`` counts
    full model resets, for tests and diagnostics.
    """

    def __init__(
        self,
        columns: Sequence[Column],
        key: Callable[[R], Hashable],
        foreground: Callable[[R], QColor | None] | None = None,
        parent: QWidget | None = None,
        *,
        tooltip: Tooltip[R] | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._key = key
        self._foreground = foreground
        self._tooltip = tooltip
        self._rows: list[R] = []
        self._keys: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        self.resets = 0

    # -- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """The number of rows (none under a cell: this is a table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """The number of columns."""
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """A cell's text, sort key, alignment, tooltip or colour."""
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        value = row[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(value)
        if role == SORT_ROLE:
            return column.sort_key(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column.numeric else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip_of(row, index.column(), column, value)
        if role == Qt.ItemDataRole.ForegroundRole and self._foreground is not None:
            return self._foreground(row)
        return None

    def _tooltip_of(self, row: R, col: int, column: Column, value: Any) -> str | None:
        tip = self._tooltip(row, col) if self._tooltip is not None else None
        if tip is None and column.kind == "text" and value:
            tip = str(value)  # ids are elided in narrow columns; the tooltip shows them whole
        return None if tip is None else plain_tooltip(tip)  # names come from the app

    def headerData(
        self, section: int, orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """A column's title."""
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    # -- updates -------------------------------------------------------------------------

    def rows(self) -> list[R]:
        """The rows in model order (not the view's sorted order)."""
        return list(self._rows)

    def row_of(self, key: Hashable) -> int | None:
        """The model row of ``key``, if present."""
        return self._index.get(key)

    def key_at(self, row: int) -> Hashable:
        """The key of model row ``row``."""
        return self._keys[row]

    def set_rows(self, rows: Sequence[R]) -> bool:
        """Show ``rows``; return False (and touch nothing) when they are the rows shown."""
        new = list(rows)
        if new == self._rows:
            return False
        new_keys = self._unique_keys(new)
        by_key = dict(zip(new_keys, new, strict=True))
        removed = [i for i, k in enumerate(self._keys) if k not in by_key]
        if not self._rows or len(removed) > max(64, len(self._rows) // 2):
            # Rows changed shape wholesale (first fill, a new source, most rows gone):
            # one reset is cheaper than hundreds of remove notifications.
            self._reset(new, new_keys)
            return True
        self._remove(removed)
        self._update(by_key)
        self._append([(k, r) for k, r in zip(new_keys, new, strict=True)
                      if k not in self._index])
        return True

    def clear(self) -> None:
        """Drop every row."""
        if self._rows:
            self._reset([], [])

    def _unique_keys(self, rows: list[R]) -> list[Hashable]:
        keys = [self._key(r) for r in rows]
        if len(set(keys)) == len(keys):
            return keys
        # A source that repeats a key must not break the diff: number the repeats.
        seen: dict[Hashable, int] = {}
        unique: list[Hashable] = []
        for k in keys:
            n = seen.get(k, 0)
            seen[k] = n + 1
            unique.append(k if n == 0 else (k, n))
        return unique

    def _reset(self, rows: list[R], keys: list[Hashable]) -> None:
        self.beginResetModel()
        self._rows = rows
        self._keys = keys
        self._index = {k: i for i, k in enumerate(keys)}
        self.endResetModel()
        self.resets += 1

    def _remove(self, removed: list[int]) -> None:
        if not removed:
            return
        # Contiguous runs, last first, so earlier row numbers stay valid while removing.
        runs: list[list[int]] = []
        for i in removed:
            if runs and runs[-1][1] == i - 1:
                runs[-1][1] = i
            else:
                runs.append([i, i])
        for first, last in reversed(runs):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            del self._keys[first : last + 1]
            self.endRemoveRows()
        self._index = {k: i for i, k in enumerate(self._keys)}

    def _update(self, by_key: dict[Hashable, R]) -> None:
        rows = self._rows
        run_start = -1
        last = len(self.columns) - 1
        # One dataChanged per run of changed rows, not one span over all of them: the
        # proxy re-sorts exactly the rows it is told about, so a span over unchanged rows
        # costs as much as changing them.
        for i, k in enumerate(self._keys):
            r = by_key[k]
            if r != rows[i]:
                rows[i] = r
                if run_start < 0:
                    run_start = i
            elif run_start >= 0:
                self.dataChanged.emit(self.index(run_start, 0), self.index(i - 1, last))
                run_start = -1
        if run_start >= 0:
            self.dataChanged.emit(self.index(run_start, 0), self.index(len(rows) - 1, last))

    def _append(self, added: list[tuple[Hashable, R]]) -> None:
        if not added:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
        for k, r in added:
            self._index[k] = len(self._rows)
            self._keys.append(k)
            self._rows.append(r)
        self.endInsertRows()
