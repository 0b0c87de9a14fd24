"""The plots' colours and pens: fixed per resource type and per marker kind, so a type keeps
its colour across runs and windows."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

MARKER_COLOURS: dict[str, str] = {
    "registered": "#81c784",
    "cleaned_up": "#ffd54f",
    "destroyed": "#e57373",
}
OTHER_MARKER_COLOUR = "#bdbdbd"

TYPE_COLOURS: dict[str, str] = {
    "worker": "#42a5f5",
    "thread": "#5c6bc0",
    "timer": "#26c6da",
    "qobject": "#9ccc65",
    "widget": "#d4e157",
    "file_handle": "#ffca28",
    "cache": "#ff7043",
    "thumbnail": "#ba68c8",
    "memory": "#f06292",
    "network": "#a1887f",
    "custom": "#90a4ae",
}
#: Colours for types outside ``TYPE_COLOURS``, in turn.
_SPARE_COLOURS = ("#e0e0e0", "#80cbc4", "#f48fb1", "#b39ddb", "#a5d6a7", "#ffe082")


def type_colour(type_name: str, n_before: int) -> str:
    """The colour of resource type ``type_name``, the ``n_before``-th type plotted."""
    return TYPE_COLOURS.get(type_name, _SPARE_COLOURS[n_before % len(_SPARE_COLOURS)])


def marker_colour(kind: str) -> str:
    """The colour of a marker line of ``kind``."""
    return MARKER_COLOURS.get(kind, OTHER_MARKER_COLOUR)


def pen(colour: str) -> Any:
    """A thin pen of ``colour``."""
    # Width 1 (cosmetic) on purpose: wider pens take Qt's slow stroking path.
    return pg.mkPen(colour, width=1)
