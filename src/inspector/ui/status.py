"""The dock's status line: the newest problem, in red, or nothing."""

from __future__ import annotations

import logging
from typing import Literal

from PySide6.QtWidgets import QLabel, QWidget

from .labels import plain_label

log = logging.getLogger("inspector.ui.dock")

#: What a problem came from: reading the source, or exporting a snapshot.
Kind = Literal["source", "export"]


class StatusLine:
    """One message at a time: the newest problem. A good refresh clears only problems of
    the source (``clear_source``), so an export error stays readable until the next export.

    The message is kept before the panel's widgets exist; ``attach`` shows it in a label.
    """

    def __init__(self) -> None:
        self.message = ""
        self.kind: Kind | None = None
        self.label: QLabel | None = None

    def attach(self, parent: QWidget) -> QLabel:
        """Make the label (hidden while there is nothing to say) and show the message."""
        label = plain_label(self.message, parent)  # errors quote the app's names
        label.setStyleSheet("color: #e53935;")
        label.setVisible(bool(self.message))
        self.label = label
        return label

    def set(self, message: str, kind: Kind = "source") -> None:
        """Show ``message`` (``""`` clears it), logged once as a warning."""
        if message == self.message:
            return
        if message:
            log.warning("resinspect dock: %s", message)
        self.message = message
        self.kind = kind if message else None
        if self.label is not None:
            self.label.setText(message)
            self.label.setVisible(bool(message))

    def clear_source(self) -> None:
        """Clear the message if it is a problem of the source."""
        if self.kind == "source":
            self.set("")
