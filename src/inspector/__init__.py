"""resinspect: a live resource inspector for PySide6 applications.

``attach()`` instruments an application in one call. ``inspector.attach`` imports only the
standard library at module level (Qt loads when ``attach()`` runs), so the command line tool,
which needs just the socket client, never loads Qt.
"""

from __future__ import annotations

from .attach import Attachment, attach

__version__ = "0.1.0"

__all__ = ["Attachment", "__version__", "attach"]
