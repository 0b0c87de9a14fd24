"""Labels and tooltips that show text as text.

A ``QLabel`` guesses whether its text is rich text (``Qt.AutoText``): a component id or an
app name like ``<img src=...>`` or ``<b>x</b>`` would be rendered as HTML. Every label of the
panel that can show a name from the application is made here, with ``PlainText``. Tooltips
have no such switch (Qt renders one that looks like HTML as HTML), so a tooltip that could
hold a name goes through :func:`plain_tooltip`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # QtCore's Qt plus the text helpers of QtGui
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A ``QLabel`` showing ``text`` (and whatever it is given later) as plain text."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def plain_tooltip(text: str) -> str:
    """``text`` as a tooltip that shows it as it is: text Qt would take for HTML is escaped
    into HTML that shows the characters (and keeps the line breaks); other text is kept."""
    if not GuiQt.mightBeRichText(text):
        return text
    return str(GuiQt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpacePre))
