"""RecordTableModel: minimal model updates by key, formatted cells, raw sort values."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from inspector.ui import RecordTableModel
from inspector.ui.columns import SORT_ROLE, Column

Row = tuple[Any, ...]
COLUMNS = (Column("id"), Column("n", "int"), Column("bytes", "bytes"))


class Spy:
    """Records a model's structural and data-change notifications."""

    def __init__(self, model: RecordTableModel[Row]) -> None:
        self.events: list[tuple[Any, ...]] = []
        model.modelReset.connect(lambda: self.events.append(("reset",)))
        model.rowsInserted.connect(
            lambda _p, first, last: self.events.append(("inserted", first, last)))
        model.rowsRemoved.connect(
            lambda _p, first, last: self.events.append(("removed", first, last)))
        model.dataChanged.connect(
            lambda tl, br, _roles=(): self.events.append(("changed", tl.row(), br.row())))


def make_model(rows: list[Row]) -> tuple[RecordTableModel[Row], Spy]:
    model: RecordTableModel[Row] = RecordTableModel(COLUMNS, key=lambda r: r[0])
    model.set_rows(rows)
    return model, Spy(model)


def test_record_model_passes_qt_model_tester(qtmodeltester: Any) -> None:
    model: RecordTableModel[Row] = RecordTableModel(COLUMNS, key=lambda r: r[0])
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
