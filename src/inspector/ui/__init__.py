"""The in-application panel: ``InspectorDock`` and its parts.

This package (with ``inspector.demo``) is the only one that imports QtWidgets, QtGui or
pyqtgraph. Importing it does not import pyqtgraph: the plots module (about 0.4 s and 30 MiB
with numpy) loads when a panel first builds its plots, or when ``HistoryPlots`` is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dock import OBJECT_NAME, InspectorDock
from .source import ClearableSource, MetricsSource

if TYPE_CHECKING:
    from .plots import HistoryPlots
    from .record_model import RecordTableModel
    from .summary import SummaryStrip
    from .tables import InspectorTables

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

_LAZY = {"HistoryPlots": ".plots", "SummaryStrip": ".summary", "InspectorTables": ".tables",
         "RecordTableModel": ".record_model"}


def __getattr__(name: str) -> Any:
    # Module-level __getattr__ (PEP 562): the heavy parts load on first use only.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)
