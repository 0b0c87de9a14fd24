"""Metrics sources: the one ``MetricsSource`` protocol and the sources beside the model.

``MetricsSource`` (with the capabilities some sources add) is declared in
:mod:`inspector.server.source`, the lowest package that consumes it, and re-exported here
with its implementations outside the application: :class:`RemoteSource` (a live application
over its socket) and :class:`RecordingSource` (a recording played back). The in-process one
is ``inspector.metrics.MetricsModel``. All of them are Qt-free.
"""

from __future__ import annotations

from ..server.source import (
    ClearableSource,
    ExplainingSource,
    FailingSource,
    HangSource,
    MetricsSource,
    NamedSource,
    ProbedSource,
    SamplingSource,
    ServicedSource,
    StallWatchingSource,
)
from .recording import RecordingSource
from .remote import RemoteSource

__all__ = [
    "ClearableSource",
    "ExplainingSource",
    "FailingSource",
    "HangSource",
    "MetricsSource",
    "NamedSource",
    "ProbedSource",
    "RecordingSource",
    "RemoteSource",
    "SamplingSource",
    "ServicedSource",
    "StallWatchingSource",
]
