"""RecordTable: a spec made into a sorted, filtered, selectable view of keyed rows."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from inspector.ui.columns import Column
from inspector.ui.record_table import RecordTable, TableSpec
from inspector.ui.rows import GREY


class Item(NamedTuple):
    name: str
    size: int
    alive: bool


SPEC = TableSpec[Item](
    (Column("name"), Column("size", "bytes"), Column("alive", "bool")),
    key=lambda r: r.name, sort_column=1, foreground=lambda r: None if r.alive else GREY,
    widths=(120, 60),
)


def test_the_view_sorts_filters_and_selects_by_key(qtbot: QtBot) -> None:
    table = RecordTable(SPEC)
    qtbot.addWidget(table.view)
    table.model.set_rows([Item("small", 10, True), Item("big", 9000, False),
                          Item("mid", 500, True)])
    assert [r.name for r in table.visible_rows()] == ["big", "mid", "small"]  # size, desc
    assert table.view.columnWidth(0) == 120
    colour = table.model.data(table.model.index(1, 0), Qt.ItemDataRole.ForegroundRole)
    assert colour == GREY  # "big" is gone
    assert table.selected_row() is None
    assert table.select_key("mid")
    assert table.selected_row() == Item("mid", 500, True)
    assert table.selected_key() == "mid"
    table.set_filter("SM")
    assert [r.name for r in table.visible_rows()] == ["small"]
    assert not table.select_key("big")  # filtered out
    assert not table.select_key("nothing")
