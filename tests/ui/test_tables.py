"""InspectorTables in the dock: sort and selection across refreshes, the selected
component's resources, filtering, and every table filled from a snapshot."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from inspector.metrics.snapshot import ComponentStats
from inspector.ui import InspectorDock

from .fakes import FakeSource, entry, make_snapshot


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
