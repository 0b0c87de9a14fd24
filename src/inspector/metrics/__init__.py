"""The metrics model: counts, memory, workers, caches, event-loop lag and leak suspects.

``Snapshot`` and its parts import no Qt and load eagerly; ``MetricsModel`` and the exporters
load on first use, so a reader of snapshots (the CLI) never pays for Qt or prometheus_client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .snapshot import (
    GROWTH,
    ORPHAN_WORKER,
    RETAINED_AFTER_CLEANUP,
    SCHEMA,
    CallbackAudit,
    ComponentStats,
    Hang,
    HangFrame,
    History,
    LeakSuspect,
    Marker,
    ResourceEntry,
    ResourcePage,
    Snapshot,
    TeardownAudit,
    TypeStats,
    WorkerInfo,
)

if TYPE_CHECKING:
    from .model import MetricsModel

__all__ = [
    "GROWTH",
    "ORPHAN_WORKER",
    "RETAINED_AFTER_CLEANUP",
    "SCHEMA",
    "CallbackAudit",
    "ComponentStats",
    "Hang",
    "HangFrame",
    "History",
    "LeakSuspect",
    "Marker",
    "MetricsModel",
    "ResourceEntry",
    "ResourcePage",
    "Snapshot",
    "TeardownAudit",
    "TypeStats",
    "WorkerInfo",
]


def __getattr__(name: str) -> Any:
    if name == "MetricsModel":
        from .model import MetricsModel

        return MetricsModel
    raise AttributeError(f"module 'inspector.metrics' has no attribute {name!r}")
