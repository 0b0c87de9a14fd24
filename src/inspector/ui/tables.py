"""The dock's tables: components, their resources, leak suspects, workers, teardown audit.

Each table is a ``RecordTableModel`` of plain tuples behind a ``QSortFilterProxyModel``. A
refresh hands the model the new rows; the model keeps its rows in a stable order keyed by
identity and reports only what changed (``dataChanged`` for changed values, row inserts and
removals for new and vanished keys), so the user's sort column, scroll position and
selection survive every refresh. A full reset happens only when most rows vanish at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.metrics.snapshot import ResourcePage, Snapshot, WhyResult
from inspector.metrics.text import safe

from ._format import format_age, format_bytes

Row = tuple[Any, ...]
AnyIndex = QModelIndex | QPersistentModelIndex

#: The role the proxies sort by: raw numbers, so "10 KiB" sorts above "9 MiB" correctly.
SORT_ROLE = Qt.ItemDataRole.UserRole

_GREY = QColor("#9e9e9e")
_RED = QColor("#e53935")
_AMBER = QColor("#fb8c00")
_NUMERIC = frozenset({"int", "bytes", "age", "ms", "seconds"})


@dataclass(frozen=True)
class Column:
    """A table column: its header and how its raw value is shown."""

    title: str
    kind: str = "text"  # text | int | bytes | age | ms | seconds | bool

    def display(self, value: Any) -> str:
        if value is None:
            return ""
        kind = self.kind
        if kind == "bytes":
            return format_bytes(value)
        if kind == "age":
            return format_age(value)
        if kind == "ms":
            return f"{value:.1f}"
        if kind == "seconds":
            return f"{value:.1f}"
        if kind == "bool":
            return "yes" if value else "no"
        return str(value)


class RecordTableModel(QAbstractTableModel):
    """Rows of plain tuples, updated in place by key.

    ``key`` names a row's identity (a component id, a resource id…); rows keep their
    position while their key lives, so persistent indexes and selections stay valid.
    ``resets`` counts full model resets, for tests and diagnostics.
    """

    def __init__(
        self,
        columns: Sequence[Column],
        key: Callable[[Row], Hashable],
        foreground: Callable[[Row], QColor | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._key = key
        self._foreground = foreground
        self._rows: list[Row] = []
        self._keys: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        self.resets = 0

    # -- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        value = row[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(value)
        if role == SORT_ROLE:
            if value is None:
                return -1 if column.kind in _NUMERIC else ""
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.kind in _NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            # Ids are elided in narrow columns; the tooltip shows them whole (and a
            # resource's name, where it was made: the row's field past the columns).
            if column.title == "name" and len(row) > len(self.columns) and row[-1]:
                return f"{value}\nmade at {row[-1]}"
            return str(value) if column.kind == "text" and value else None
        if role == Qt.ItemDataRole.ForegroundRole and self._foreground is not None:
            return self._foreground(row)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    # -- updates -------------------------------------------------------------------------

    def rows(self) -> list[Row]:
        """The rows in model order (not the view's sorted order)."""
        return list(self._rows)

    def row_of(self, key: Hashable) -> int | None:
        """The model row of ``key``, if present."""
        return self._index.get(key)

    def key_at(self, row: int) -> Hashable:
        """The key of model row ``row``."""
        return self._keys[row]

    def set_rows(self, rows: Sequence[Row]) -> bool:
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
        added = [(k, r) for k, r in zip(new_keys, new, strict=True) if k not in self._index]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for k, r in added:
                self._index[k] = len(self._rows)
                self._keys.append(k)
                self._rows.append(r)
            self.endInsertRows()
        return True

    def clear(self) -> None:
        """Drop every row."""
        if self._rows:
            self._reset([], [])

    def _unique_keys(self, rows: list[Row]) -> list[Hashable]:
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

    def _reset(self, rows: list[Row], keys: list[Hashable]) -> None:
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

    def _update(self, by_key: dict[Hashable, Row]) -> None:
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


# -- rows from a snapshot -----------------------------------------------------------------

COMPONENT_COLUMNS = (
    Column("component"), Column("type"), Column("live", "int"), Column("bytes", "bytes"),
    Column("alive", "bool"),
)
RESOURCE_COLUMNS = (
    Column("resource"), Column("type"), Column("name"), Column("size", "bytes"),
    Column("age", "age"), Column("thread", "int"), Column("alive", "bool"),
)
SUSPECT_COLUMNS = (
    Column("component"), Column("type"), Column("resource"), Column("reason"),
    Column("age", "age"), Column("size", "bytes"), Column("detail"),
)
WORKER_COLUMNS = (
    Column("worker"), Column("owner"), Column("class"), Column("running", "bool"),
    Column("age", "age"),
)
AUDIT_COLUMNS = (
    Column("component"), Column("reason"), Column("t", "seconds"), Column("released", "int"),
    Column("order", "int"), Column("callback"), Column("priority", "int"),
    Column("duration ms", "ms"), Column("error"),
)


def component_rows(snapshot: Snapshot) -> list[Row]:
    """One row per component: id, type, live, bytes, alive."""
    return [(c.id, c.type, c.live, c.bytes, c.alive) for c in snapshot.components]


def resource_rows(page: ResourcePage) -> list[Row]:
    """One row per resource of a page."""
    return [
        (r.resource_id, r.resource_type, r.name or r.type_name, r.size_bytes, r.age_s,
         r.thread_id, r.alive, r.site)  # the site, past the columns: the name's tooltip
        for r in page.items
    ]


def format_why(result: WhyResult) -> str:
    """A ``why`` chain as plain text lines, root first, every name escaped."""
    lines = [f"What keeps {safe(result.resource_id)} alive, root first"
             + ("" if result.complete else " (no root reached: the longest chain found)")
             + ":"]
    for n, link in enumerate(result.chain, start=1):
        where = f"   at {safe(link.site)}" if link.site else ""
        lines.append(f"{n}. {safe(link.kind)}: {safe(link.name)}{where}")
    return "\n".join(lines)


def suspect_rows(snapshot: Snapshot) -> list[Row]:
    """One row per leak suspect, with its reason and age; the bare resource id last."""
    return [
        (s.component_id, s.resource_type,
         " ".join(p for p in (s.name, s.resource_id) if p)
         + (f" (x{s.count})" if s.count > 1 else ""),
         s.reason if s.confirmed else f"{s.reason} (pending)", s.age_s, s.size_bytes,
         "; ".join(p for p in (s.detail, f"made at {s.site}" if s.site else "") if p),
         s.resource_id)  # past the columns: what `why` is asked about
        for s in snapshot.leak_suspects
    ]


def worker_rows(snapshot: Snapshot) -> list[Row]:
    """One row per tracked worker, with its owner and age."""
    return [
        (w.resource_id, w.component_id, w.type_name, w.running, w.age_s)
        for w in snapshot.workers
    ]


def audit_rows(snapshot: Snapshot) -> list[Row]:
    """One row per cleanup callback run (one row for a teardown that ran none)."""
    rows: list[Row] = []
    for a in snapshot.audits:
        if not a.callbacks:
            rows.append((a.component_id, a.reason, a.t, a.released, None, "", None, None, ""))
        for cb in a.callbacks:
            rows.append((
                a.component_id, a.reason, a.t, a.released, cb.order, cb.name, cb.priority,
                cb.duration_ms, cb.error or "",
            ))
    return rows


# -- the widget ---------------------------------------------------------------------------


class RecordTable:
    """A model, its sort/filter proxy and the view showing it."""

    def __init__(
        self,
        columns: Sequence[Column],
        key: Callable[[Row], Hashable],
        parent: QWidget,
        *,
        sort_column: int,
        sort_order: Qt.SortOrder = Qt.SortOrder.DescendingOrder,
        foreground: Callable[[Row], QColor | None] | None = None,
        widths: Sequence[int] = (),
    ) -> None:
        self.view = QTableView(parent)
        self.model = RecordTableModel(columns, key, foreground, parent=self.view)
        self.proxy = QSortFilterProxyModel(self.view)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)  # the filter matches any column
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        view = self.view
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(sort_column, sort_order)
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
        for i, width in enumerate(widths):
            view.setColumnWidth(i, width)

    def visible_rows(self) -> list[Row]:
        """The rows as the view shows them: filtered and sorted."""
        rows = self.model.rows()
        out = []
        for r in range(self.proxy.rowCount()):
            src = self.proxy.mapToSource(self.proxy.index(r, 0))
            out.append(rows[src.row()])
        return out


def _component_fg(row: Row) -> QColor | None:
    return None if row[4] else _GREY


def _resource_fg(row: Row) -> QColor | None:
    return None if row[6] else _GREY


def _suspect_fg(row: Row) -> QColor | None:
    return _AMBER


def _worker_fg(row: Row) -> QColor | None:
    return None if row[3] else _GREY


def _audit_fg(row: Row) -> QColor | None:
    return _RED if row[8] else None


class InspectorTables(QTabWidget):
    """Tabs of tables over a snapshot; the components tab also lists the selected
    component's resources, which the owner fetches when ``componentSelected`` fires."""

    #: The selected component's id, or ``""`` when the selection is cleared.
    componentSelected = Signal(str)  # Qt's camelCase signal naming
    #: A `why` answer (resource id, text) coming back from its thread (queued to the GUI).
    _whyReady = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._selected: str = ""

        page = QSplitter(Qt.Orientation.Vertical, self)
        self.components = RecordTable(
            COMPONENT_COLUMNS, lambda r: r[0], page, sort_column=3,
            foreground=_component_fg, widths=(180, 90, 60, 90),
        )
        lower = QWidget(page)
        layout = QVBoxLayout(lower)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.resources_label = QLabel("Select a component to list its resources.", lower)
        self.resources = RecordTable(
            RESOURCE_COLUMNS, lambda r: r[0], lower, sort_column=3,
            foreground=_resource_fg, widths=(150, 80, 110, 80, 60, 110),
        )
        layout.addWidget(self.resources_label)
        layout.addWidget(self.resources.view)
        page.addWidget(self.components.view)
        page.addWidget(lower)
        self.addTab(page, "Components")

        suspects_page = QSplitter(Qt.Orientation.Vertical, self)
        self.suspects = RecordTable(
            SUSPECT_COLUMNS, lambda r: (r[0], r[1], r[2], r[3]), suspects_page, sort_column=4,
            foreground=_suspect_fg, widths=(160, 80, 140, 160, 60, 80),
        )
        # The selected suspect's `why`: worked out on a thread of its own (it walks the
        # heap for up to 2 s), shown here when it comes back.
        self.why_label = QLabel("Select a suspect to see what keeps it alive.", suspects_page)
        self.why_label.setTextFormat(Qt.TextFormat.PlainText)  # names come from the app
        self.why_label.setWordWrap(True)
        self.why_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.why_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        suspects_page.addWidget(self.suspects.view)
        suspects_page.addWidget(self.why_label)
        self._why_source: Callable[[str], WhyResult] | None = None
        self._why_shown = ""
        self._whyReady.connect(self._show_why)
        self.suspects.view.selectionModel().selectionChanged.connect(self._on_suspect_selection)
        self.addTab(suspects_page, "Leak suspects")
        self.workers = RecordTable(
            WORKER_COLUMNS, lambda r: r[0], self, sort_column=4,
            foreground=_worker_fg, widths=(150, 160, 120, 70),
        )
        self.addTab(self.workers.view, "Workers")
        self.audits = RecordTable(
            AUDIT_COLUMNS, lambda r: (r[0], r[2], r[4]), self, sort_column=2,
            foreground=_audit_fg, widths=(160, 110, 60, 70, 50, 160, 60, 80),
        )
        self.addTab(self.audits.view, "Teardown")
        self._tab_titles = ["Components", "Leak suspects", "Workers", "Teardown"]

        self.components.view.selectionModel().selectionChanged.connect(
            self._on_component_selection
        )

    def sizeHint(self) -> QSize:
        """Smaller than the plots: the splitter gives the plots the larger share."""
        return QSize(640, 260)

    @property
    def all_tables(self) -> tuple[RecordTable, ...]:
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
        counts = []
        for index, (table, rows) in enumerate((
            (self.suspects, suspect_rows(snapshot)),
            (self.workers, worker_rows(snapshot)),
            (self.audits, audit_rows(snapshot)),
        ), start=1):
            changed = table.model.set_rows(rows) or changed
            counts.append((index, len(rows)))
        for index, n in counts:
            title = f"{self._tab_titles[index]} ({n})" if n else self._tab_titles[index]
            if self.tabText(index) != title:
                self.setTabText(index, title)
        return changed

    def set_resources(self, page: ResourcePage | None, component_id: str) -> None:
        """Show ``page`` as the resources of ``component_id`` (None clears the table)."""
        if page is None:
            self.resources.model.clear()
            self.resources_label.setText("Select a component to list its resources.")
            return
        self.resources.model.set_rows(resource_rows(page))
        shown = len(page.items)
        more = f" (first {shown} of {page.total})" if page.total > shown else ""
        self.resources_label.setText(f"Resources of {component_id}: {page.total}{more}")

    def set_why_source(self, source: Callable[[str], WhyResult] | None) -> None:
        """What answers `why` for a selected suspect (``MetricsModel.why``); None: nothing."""
        self._why_source = source

    def _on_suspect_selection(self, _selected: QItemSelection, _deselected: object) -> None:
        rows = self.suspects.view.selectionModel().selectedRows()
        if not rows:
            return
        src = self.suspects.proxy.mapToSource(rows[0])
        row = self.suspects.model.rows()[src.row()]
        rid = str(row[-1])  # suspect_rows ends each row with the bare resource id
        source = self._why_source
        if not rid or source is None:
            self.why_label.setText("No resource to explain." if source is not None
                                   else "Why it is alive is shown for a live application.")
            return
        self._why_shown = rid
        self.why_label.setText(f"Working out what keeps {safe(rid)} alive...")
        ready = self._whyReady

        def work() -> None:  # never on the GUI thread: it walks the heap
            try:
                text = format_why(source(rid))
            except LookupError:
                text = f"{rid} is gone."
            except Exception as exc:  # shown, not raised into a thread nobody watches
                text = f"why {rid} failed: {type(exc).__name__}: {exc}"
            ready.emit(rid, text)

        threading.Thread(target=work, name="resinspect-why", daemon=True).start()

    def _show_why(self, rid: str, text: str) -> None:
        if rid == self._why_shown:
            self.why_label.setText(text)

    def set_filter(self, text: str) -> None:
        """Show only rows containing ``text`` (any column, any case) in every snapshot table.

        The resources table is left alone: it is already narrowed to the selected component.
        """
        for table in (self.components, self.suspects, self.workers, self.audits):
            table.proxy.setFilterFixedString(text)

    def selected_component(self) -> str:
        """The selected component's id, or ``""``."""
        return self._selected

    def select_component(self, component_id: str) -> bool:
        """Select ``component_id``'s row in the components table; False if it isn't shown."""
        row = self.components.model.row_of(component_id)
        if row is None:
            return False
        proxy_index = self.components.proxy.mapFromSource(self.components.model.index(row, 0))
        if not proxy_index.isValid():
            return False  # filtered out
        self.components.view.selectRow(proxy_index.row())
        return True

    def clear_rows(self) -> None:
        """Empty every table (a new source, or nothing to show)."""
        for table in self.all_tables:
            table.model.clear()
        if self._selected:
            self._selected = ""
            self.componentSelected.emit("")

    def _on_component_selection(self, selected: QItemSelection, _deselected: object) -> None:
        rows = self.components.view.selectionModel().selectedRows()
        component_id = ""
        if rows:
            src = self.components.proxy.mapToSource(rows[0])
            component_id = str(self.components.model.key_at(src.row()))
        if component_id != self._selected:
            self._selected = component_id
            self.componentSelected.emit(component_id)
