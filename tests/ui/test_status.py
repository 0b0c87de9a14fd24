"""The dock's status line: the newest problem; a good refresh clears only the source's."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from inspector.ui.status import StatusLine


def test_a_message_set_before_the_label_exists_is_shown_by_it(qapp: object) -> None:
    status = StatusLine()
    status.set("source failed: boom")
    parent = QWidget()
    label = status.attach(parent)
    assert label.text() == "source failed: boom"
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert not label.isHidden()
    status.set("")
    assert label.isHidden()
    assert status.kind is None


def test_a_good_refresh_clears_source_problems_but_not_an_export_error(qapp: object) -> None:
    status = StatusLine()
    parent = QWidget()  # kept: the label dies with it
    label = status.attach(parent)
    status.set("source failed: boom")
    status.clear_source()
    assert status.message == ""
    status.set("export failed: disk full", kind="export")
    status.clear_source()
    assert label.text() == "export failed: disk full"
    assert status.kind == "export"
