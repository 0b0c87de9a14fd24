"""Parenting the top-level widgets pyqtgraph makes without a parent.

pyqtgraph creates its context menus and their option panels without a parent, so they are
top-level windows that live until Python's cycle collector happens to free the plot items: a
host that deletes the dock would keep dozens of hidden windows. Made children of the plots,
they die with them.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QApplication, QWidget


def top_level_windows() -> set[int]:
    """The C++ addresses of the top-level widgets now (to compare with later)."""
    return {shiboken6.getCppPointer(w)[0] for w in QApplication.topLevelWidgets()}


def adopt_new_windows(parent: QWidget, before: set[int]) -> None:
    """Make every parentless top-level widget not in ``before`` a child of ``parent``."""
    for widget in QApplication.topLevelWidgets():
        if (
            widget.parentWidget() is None
            and widget is not parent
            and shiboken6.getCppPointer(widget)[0] not in before
        ):
            widget.setParent(parent, widget.windowFlags())
