"""resinspect: a live resource inspector for PySide6 applications.

``attach()`` instruments an application in one call. Imports are lazy so that the command
line tool, which only needs the socket client, never loads Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .attach import Attachment, attach

__all__ = ["Attachment", "__version__", "attach"]


def __getattr__(name: str) -> Any:
    if name in ("attach", "Attachment"):
        from . import attach as _attach_module

        return getattr(_attach_module, name)
    raise AttributeError(f"module 'inspector' has no attribute {name!r}")
