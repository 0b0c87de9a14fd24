"""The inspector's socket server, its protocol, its client and discovery of live applications.

``InspectorServer`` loads on first use: the CLI imports ``inspector.server.client`` and
``inspector.server.discovery``, which must not pull in Qt or the metrics model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import InspectorServer

__all__ = ["InspectorServer"]


def __getattr__(name: str) -> Any:
    if name == "InspectorServer":
        from .server import InspectorServer

        return InspectorServer
    raise AttributeError(f"module 'inspector.server' has no attribute {name!r}")
