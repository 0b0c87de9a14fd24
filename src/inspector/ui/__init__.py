"""The in-application panel: ``InspectorDock`` and its parts.

This package (with ``inspector.demo``) is the only one that imports QtWidgets, QtGui or
pyqtgraph; importing it costs pyqtgraph's import time (about 0.4 s), so nothing outside the
GUI path imports it.
"""

from __future__ import annotations

from .dock import OBJECT_NAME, InspectorDock
from .plots import HistoryPlots
from .source import ClearableSource, MetricsSource
from .summary import SummaryStrip
from .tables import InspectorTables, RecordTableModel

__all__ = [
    "OBJECT_NAME",
    "ClearableSource",
    "HistoryPlots",
    "InspectorDock",
    "InspectorTables",
    "MetricsSource",
    "RecordTableModel",
    "SummaryStrip",
]
