"""Tables: minimal model updates, sort/selection across refreshes, filtering, row builders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from inspector.metrics.snapshot import (
    CallbackAudit,
    ComponentStats,
    TeardownAudit,
)
from inspector.ui import InspectorDock, RecordTableModel
from inspector.ui.columns import SORT_ROLE, Column
from inspector.ui.rows import audit_rows

from .fakes import FakeSource, entry, make_snapshot

COLUMNS = (Column("id"), Column("n", "int"), Column("bytes", "bytes"))


class Spy:
    """Records a model's structural and data-change notifications."""

    def __init__(self, model: RecordTableModel) -> None:
        self.events: list[tuple[Any, ...]] = []
        model.modelReset.connect(lambda: self.events.append(("reset",)))
        model.rowsInserted.connect(
            lambda _p, first, last: self.events.append(("inserted", first, last)))
        model.rowsRemoved.connect(
            lambda _p, first, last: self.events.append(("removed", first, last)))
        model.dataChanged.connect(
            lambda tl, br, _roles=(): self.events.append(("changed", tl.row(), br.row())))


def make_model(rows: list[tuple[Any, ...]]) -> tuple[RecordTableModel, Spy]:
    model = RecordTableModel(COLUMNS, key=lambda r: r[0])
    model.set_rows(rows)
    return model, Spy(model)


def test_record_model_passes_qt_model_tester(qtmodeltester: Any) -> None:
    model = RecordTableModel(COLUMNS, key=lambda r: r[0])
    qtmodeltester.check(model)  # stays attached and checks every change below
    model.set_rows([("a", 1, 10), ("b", 2, 20), ("c", 3, 30)])
    model.set_rows([("a", 1, 11), ("c", 3, 30), ("d", 4, 40)])
    model.set_rows([])
    model.set_rows([("x", 1, 1)])
    qtmodeltester.check(model)


def test_unchanged_rows_notify_nothing() -> None:
    model, spy = make_model([("a", 1, 10), ("b", 2, 20)])
    assert model.set_rows([("a", 1, 10), ("b", 2, 20)]) is False
    assert spy.events == []


def test_changed_values_emit_data_changed_for_those_rows_only() -> None:
    model, spy = make_model([("a", 1, 10), ("b", 2, 20), ("c", 3, 30), ("d", 4, 40)])
    assert model.set_rows([("a", 1, 10), ("b", 2, 21), ("c", 3, 30), ("d", 5, 40)])
    assert spy.events == [("changed", 1, 1), ("changed", 3, 3)]
    assert model.resets == 1  # only the first fill


def test_new_and_vanished_keys_insert_and_remove_rows_without_reset() -> None:
    model, spy = make_model([("a", 1, 10), ("b", 2, 20), ("c", 3, 30), ("d", 4, 40)])
    model.set_rows([("d", 4, 40), ("a", 1, 10), ("e", 5, 50)])  # order is the proxy's job
    assert ("reset",) not in spy.events
    assert ("removed", 1, 2) in spy.events
    assert ("inserted", 2, 2) in spy.events
    assert model.rows() == [("a", 1, 10), ("d", 4, 40), ("e", 5, 50)]


def test_duplicate_keys_from_a_source_do_not_break_the_diff() -> None:
    model, _spy = make_model([("a", 1, 10)])
    model.set_rows([("a", 1, 10), ("a", 2, 20)])
    assert model.rows() == [("a", 1, 10), ("a", 2, 20)]
    model.set_rows([("a", 2, 20)])
    assert model.rowCount() == 1


def test_cells_show_formatted_text_and_sort_by_raw_value() -> None:
    model, _spy = make_model([("a", 1, 1536)])
    index = model.index(0, 2)
    assert model.data(index) == "1.5 KiB"
    assert model.data(index, SORT_ROLE) == 1536
    assert model.data(index, Qt.ItemDataRole.TextAlignmentRole)
    assert model.headerData(2, Qt.Orientation.Horizontal) == "bytes"
    assert model.rowCount(model.index(0, 0)) == 0  # a table: no children
    assert model.data(QModelIndex()) is None


# -- in the dock ------------------------------------------------------------------------------


def comp(cid: str, nbytes: int, live: int = 1) -> ComponentStats:
    return ComponentStats(id=cid, type="tab", live=live, bytes=nbytes, alive=True)


def test_sort_and_selection_survive_refreshes(make_dock: Callable[..., InspectorDock]) -> None:
    source = FakeSource(snap=make_snapshot(components=[
        comp("A", 300), comp("B", 200), comp("C", 100)]))
    dock = make_dock(source)
    dock.show()
    dock.refresh()
    table = dock.tables.components
    table.view.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # bytes, largest first
    assert dock.tables.select_component("B")
    resets = table.model.resets

    # B grows to the top, C leaves, D arrives: rows move, the selection follows B.
    source.snap = make_snapshot(components=[comp("A", 300), comp("B", 900), comp("D", 50)])
    dock.refresh()
    assert [r[0] for r in table.visible_rows()] == ["B", "A", "D"]
    assert dock.tables.selected_component() == "B"
    selected = table.view.selectionModel().selectedRows()
    assert [table.proxy.data(i) for i in selected] == ["B"]
    assert table.model.resets == resets
    assert table.view.horizontalHeader().sortIndicatorSection() == 3


def test_selected_component_lists_its_resources_and_refetches_only_on_change(
        make_dock: Callable[..., InspectorDock]) -> None:
    source = FakeSource()
    source.pages = {"Gallery": [entry("g1", "Gallery", 10), entry("g2", "Gallery", 20)],
                    "Loader": [entry("l1", "Loader")]}
    dock = make_dock(source)
    dock.show()
    dock.refresh()
    assert dock.tables.select_component("Gallery")
    assert {r[0] for r in dock.tables.resources.model.rows()} == {"g1", "g2"}
    assert "Resources of Gallery: 2" in dock.tables.resources_label.text()
    fetched = source.calls["resources"]

    dock.refresh()  # nothing about Gallery changed: no new round trip
    assert source.calls["resources"] == fetched

    source.pages["Gallery"].append(entry("g3", "Gallery", 30))
    source.snap = make_snapshot(components=[comp("Gallery", 60, live=3), comp("Loader", 1)])
    dock.refresh()
    assert source.calls["resources"] == fetched + 1
    assert {r[0] for r in dock.tables.resources.model.rows()} == {"g1", "g2", "g3"}

    dock.tables.components.view.clearSelection()
    assert dock.tables.resources.model.rowCount() == 0


def test_filter_line_edit_filters_every_snapshot_table(qtbot: QtBot, dock: InspectorDock) -> None:
    dock.show()
    dock.refresh()
    assert dock.tables.components.proxy.rowCount() == 2
    QTest.keyClicks(dock.filter_edit, "GALL")  # any case, any column
    assert [r[0] for r in dock.tables.components.visible_rows()] == ["Gallery"]
    assert dock.tables.suspects.proxy.rowCount() == 0
    assert dock.tables.workers.proxy.rowCount() == 0
    dock.refresh()  # the filter holds across refreshes
    assert dock.tables.components.proxy.rowCount() == 1
    dock.filter_edit.clear()
    assert dock.tables.components.proxy.rowCount() == 2


def test_suspects_workers_and_audit_tables_fill_from_the_snapshot(dock: InspectorDock) -> None:
    dock.refresh()
    suspects = dock.tables.suspects.model.rows()
    assert suspects == [("Gone", "cache", "r9", "retained_after_cleanup", 42.0, 512, "", "r9")]
    assert dock.tables.workers.model.rows() == [("w1", "Loader", "QThread", True, 3.0)]
    audits = dock.tables.audits.model.rows()
    assert [(r[0], r[4], r[5], r[8]) for r in audits] == [
        ("Old", 0, "stop", ""), ("Old", 1, "flush", "OSError: disk full")]
    error_row = next(i for i, r in enumerate(audits) if r[8])
    colour = dock.tables.audits.model.data(dock.tables.audits.model.index(error_row, 8),
                                           Qt.ItemDataRole.ForegroundRole)
    assert colour.red() > 200
    assert colour.green() < 100
    assert dock.tables.tabText(1) == "Leak suspects (1)"
    assert dock.tables.tabText(3) == "Teardown (2)"


def test_a_teardown_without_callbacks_still_has_a_row() -> None:
    snap = make_snapshot(audits=[
        TeardownAudit(component_id="Quiet", reason="explicit", t=1.0, released=3),
        TeardownAudit(component_id="Busy", reason="destroyed", t=2.0, released=0, callbacks=[
            CallbackAudit(name="cb", priority=1, order=0, duration_ms=0.1)]),
    ])
    rows = audit_rows(snap)
    assert rows[0][:4] == ("Quiet", "explicit", 1.0, 3)
    assert rows[0][4] is None
    assert rows[1][5] == "cb"
