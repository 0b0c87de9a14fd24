"""Names from the application are shown as text by every label of the panel, never as
HTML (a QLabel's default AutoText would render ``<b>…</b>`` or ``<img src=…>``)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from inspector.metrics.snapshot import ComponentStats
from inspector.ui import InspectorDock
from inspector.ui.labels import plain_label, plain_tooltip

from .fakes import FakeSource, entry, make_snapshot

RICH = "<b>bold</b><img src='x.png'>"


def under(widget: QWidget, ancestor: QWidget) -> bool:
    """Whether ``ancestor`` is among ``widget``'s parents (across windows, unlike
    ``isAncestorOf``: pyqtgraph's menus are popups parented to the plots)."""
    parent = widget.parentWidget()
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parentWidget()
    return False


def test_a_plain_label_shows_markup_as_the_characters_it_is(qapp: QApplication) -> None:
    plain = plain_label(RICH)
    auto = QLabel(RICH)
    assert plain.textFormat() == Qt.TextFormat.PlainText
    plain.setText("<i>later</i>")  # the format holds for text set afterwards
    assert plain.textFormat() == Qt.TextFormat.PlainText
    # What it means on screen: the markup takes room as characters, not as formatting.
    plain.setText("<b>x</b>")
    auto.setText("<b>x</b>")
    assert plain.sizeHint().width() > auto.sizeHint().width()


def test_every_label_of_the_panel_shows_app_text_plainly(
        make_dock: Callable[..., InspectorDock]) -> None:
    source = FakeSource(snap=make_snapshot(
        app=RICH, components=[ComponentStats(id=RICH, type="tab", live=1, bytes=9,
                                             alive=True)]))
    source.pages = {RICH: [entry("r1", RICH)]}
    deferred = InspectorDock(source, deferred=True)
    dock = make_dock(source)
    try:
        labels = deferred.findChildren(QLabel)
        assert labels  # the placeholder
        assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
        dock.show()
        dock.refresh()
        assert dock.tables.select_component(RICH)
        source.fail = ConnectionError(RICH)
        dock.refresh()  # the status line quotes the error
        shown = {label.text() for label in dock.findChildren(QLabel)}
        assert any(RICH in text for text in shown)
        assert any(text.startswith(f"Resources of {RICH}") for text in shown)
        assert any(RICH in text and "source failed" in text for text in shown)
        # pyqtgraph's own menus (children of the plots) show only pyqtgraph's words.
        rich = [label.text() for label in dock.findChildren(QLabel)
                if label.textFormat() != Qt.TextFormat.PlainText
                and not under(label, dock.plots)]
        assert rich == []
    finally:
        deferred.deleteLater()


def test_a_tooltip_that_looks_like_html_shows_its_characters(qapp: QApplication) -> None:
    assert plain_tooltip("Gallery#1\nmade at app.py:3") == "Gallery#1\nmade at app.py:3"
    text = f"{RICH}\nmade at a<b>.py"
    tip = plain_tooltip(text)
    assert "<b>bold" not in tip
    assert GuiQt.mightBeRichText(tip)  # HTML now, that shows the characters:
    shown = QTextDocument()
    shown.setHtml(tip)
    assert shown.toPlainText().replace("\xa0", " ") == text


def test_tooltips_of_app_names_in_the_panel_are_escaped(
        make_dock: Callable[..., InspectorDock]) -> None:
    source = FakeSource(snap=make_snapshot(
        app=RICH, components=[ComponentStats(id=RICH, type="tab", live=1, bytes=9,
                                             alive=True)]))
    dock = make_dock(source)
    dock.refresh()
    model = dock.tables.components.model
    cell_tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "&lt;b&gt;bold" in cell_tip
    assert "<b>bold" not in cell_tip
    app_tip = dock.summary.labels["app"].toolTip()
    assert "&lt;b&gt;bold" in app_tip
    assert "<b>bold" not in app_tip
