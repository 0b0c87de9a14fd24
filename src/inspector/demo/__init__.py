"""The sample application: a small forensic evidence tool built tab -> controller ->
coordinator -> service (docs/architecture.md, "The resource system").

Tab → Controller → ResourceCoordinator → ResourceManagementService. Tabs (``tabs/``) are pure
UI; controllers (``controllers/``) own their worker threads, thumbnails and caches through a
coordinator; ``debug.py`` plants the defects the inspector exists to find; ``app.py`` is the
entry point of ``resinspect demo`` and ``workload.py`` the script it runs without a display.

Importing the package loads no Qt: :func:`main` imports the application when it runs, so
the command line (whose import contracts allow it this package) pays for Qt only when the
``demo`` command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .screenshots import TopRenderer


def main(
    *,
    headless: bool = False,
    seconds: float | None = None,
    screenshots: Path | None = None,
    serve: bool = True,
    out: TextIO | None = None,
    top: TopRenderer | None = None,
) -> int:
    """Run the demo (see :func:`inspector.demo.app.main`); return the exit status.

    The command line reaches the demo through this function, so that importing the package
    itself loads no Qt.
    """
    from .app import main as run

    return run(headless=headless, seconds=seconds, screenshots=screenshots, serve=serve,
               out=out, top=top)


__all__ = ["main"]
