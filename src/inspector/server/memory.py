"""Handing freed heap memory back to the system once dropped clients' queues are gone."""

from __future__ import annotations

import contextlib
from typing import Any

#: Bytes freed (dropped clients' queues) after which memory is handed back to the system.
TRIM_AFTER = 8 * (1 << 20)

#: glibc's ``malloc_trim``, looked up on first use (False where there is none).
_TRIM: dict[str, Any] = {}


def malloc_trim() -> None:
    """Give free heap memory back to the system (glibc); nothing elsewhere.

    Replies of hundreds of KiB freed on the server thread stay in its malloc arena, which
    glibc returns to the system only on request: without this, RSS stayed at 426-490 MB
    after thirty pipelining clients that had pushed it from 42 MB were dropped.
    """
    trim: Any = _TRIM.get("malloc_trim")
    if trim is None:
        _TRIM["malloc_trim"] = trim = False
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            _TRIM["malloc_trim"] = trim = ctypes.CDLL("libc.so.6").malloc_trim
    if trim:
        trim(0)
