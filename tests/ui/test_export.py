"""The dock's export: the shown snapshot saved through the one snapshot file writer
(``inspector.fleet.snapshot_file``), from ``export_snapshot`` and from the Export button."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from inspector.metrics.snapshot import Snapshot
from inspector.ui import InspectorDock

from .fakes import FakeSource


def test_export_json_loads_back_as_the_shown_snapshot(tmp_path: Path,
                                                      dock: InspectorDock) -> None:
    dock.refresh()
    path = dock.export_snapshot(tmp_path / "snap.json", "json")
    loaded = Snapshot.from_json(path.read_bytes())
    assert loaded == dock.last_snapshot
    assert json.loads(path.read_bytes())["schema"] == "resinspect.snapshot/1"


def test_export_before_any_refresh_takes_a_fresh_snapshot(tmp_path: Path, dock: InspectorDock,
                                                          source: FakeSource) -> None:
    path = dock.export_snapshot(tmp_path / "fresh.json")
    assert Snapshot.from_json(path.read_bytes()) == source.snap
    assert source.calls["snapshot"] == 1


def test_export_csv_uses_the_csv_exporter(tmp_path: Path, dock: InspectorDock) -> None:
    from inspector.metrics.exporters import snapshot_to_csv

    dock.refresh()
    assert dock.last_snapshot is not None
    path = dock.export_snapshot(tmp_path / "snap.csv")  # format from the suffix
    assert path.read_text(encoding="utf-8") == snapshot_to_csv(dock.last_snapshot)
    assert "Gallery" in path.read_text(encoding="utf-8")


def test_export_goes_through_the_one_writer_never_replacing_a_link_or_fifo(
        tmp_path: Path, dock: InspectorDock) -> None:
    """The dock shares ``snapshot -o``'s writer (issue 12): a symlink keeps pointing at its
    file, a FIFO nobody reads is refused rather than replaced by a regular file."""
    import os
    import stat

    from inspector.errors import BadInput

    dock.refresh()
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    dock.export_snapshot(link)
    assert link.is_symlink()
    assert Snapshot.from_json(target.read_bytes()) == dock.last_snapshot
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600  # a snapshot holds stacks, paths
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(BadInput, match="no process reads"):
        dock.export_snapshot(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_export_rejects_an_unknown_format_and_writes_nothing(tmp_path: Path,
                                                             dock: InspectorDock) -> None:
    with pytest.raises(ValueError, match="xml"):
        dock.export_snapshot(tmp_path / "snap.xml", "xml")
    assert list(tmp_path.iterdir()) == []


def test_export_button_writes_the_chosen_file(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path, dock: InspectorDock) -> None:
    chosen = tmp_path / "picked"

    def fake_dialog(*_args: object, **_kwargs: object) -> tuple[str, str]:
        return str(chosen), "CSV (*.csv)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    dock.show()
    dock.refresh()
    QTest.mouseClick(dock.export_button, Qt.MouseButton.LeftButton)
    written = tmp_path / "picked.csv"
    assert written.exists()
    assert written.read_text(encoding="utf-8").startswith("metric,")


def test_failed_export_from_the_button_is_shown(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path, dock: InspectorDock) -> None:
    target = tmp_path / "missing-dir" / "snap.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *_a, **_k: (str(target), "JSON snapshot (*.json)")))
    dock.show()
    dock.refresh()
    QTest.mouseClick(dock.export_button, Qt.MouseButton.LeftButton)
    assert "export failed" in dock.status_label.text()
    dock.refresh()  # a good refresh does not hide an export error
    assert dock.status_label.isVisible()




@pytest.mark.parametrize(("typed", "chosen", "written", "fmt"), [
    ("picked", "Prometheus text (*.prom)", "picked.prom", "prom"),
    ("picked.csv", "JSON snapshot (*.json)", "picked.csv", "csv"),
    ("picked.txt", "CSV (*.csv)", "picked.txt", "csv"),
    ("picked", "JSON snapshot (*.json)", "picked.json", "json"),
])
def test_the_dialog_picks_the_format_from_the_filter_or_the_name(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dock: InspectorDock,
        typed: str, chosen: str, written: str, fmt: str) -> None:
    from inspector.fleet.snapshot_file import encode_snapshot

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *_a, **_k: (str(tmp_path / typed), chosen)))
    dock.show()
    dock.refresh()
    QTest.mouseClick(dock.export_button, Qt.MouseButton.LeftButton)
    assert [p.name for p in tmp_path.iterdir()] == [written]
    assert dock.last_snapshot is not None
    # The very bytes `resinspect snapshot --format FMT` prints for the same snapshot.
    assert (tmp_path / written).read_bytes() == encode_snapshot(dock.last_snapshot, fmt)


def test_a_cancelled_dialog_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           dock: InspectorDock) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *_a, **_k: ("", "")))
    dock.show()
    dock.refresh()
    QTest.mouseClick(dock.export_button, Qt.MouseButton.LeftButton)
    assert list(tmp_path.iterdir()) == []
    assert not dock.status_label.isVisible()
