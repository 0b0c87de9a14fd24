"""Labels that show text as text.

A ``QLabel`` guesses whether its text is rich text (``Qt.AutoText``): a component id or an
app name like ``<img src=...>`` or ``<b>x</b>`` would be rendered as HTML. Every label of the
panel that can show a name from the application is made here, with ``PlainText``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A ``QLabel`` showing ``text`` (and whatever it is given later) as plain text."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label
