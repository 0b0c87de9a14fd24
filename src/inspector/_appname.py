"""The application's default name, without importing anything heavy (``attach()`` needs it
before the metrics model is loaded)."""

from __future__ import annotations

import sys
from pathlib import Path


def default_app_name() -> str:
    """The running script's name, as ``ls`` and snapshots report it by default."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    name = Path(argv0).stem if argv0 not in ("", "-c", "-m") else ""
    return name or "python"
