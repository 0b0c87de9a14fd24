"""Warnings about clients, rate-limited: a flood of connections makes a few log lines and a
count, not one line per connection."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("inspector.server")

#: Warnings of one kind logged per window before the rest are only counted.
LOG_BURST = 5
LOG_WINDOW = 10.0


class RateLimitedLog:
    """At most :data:`LOG_BURST` warnings of a kind per :data:`LOG_WINDOW` seconds; the
    next one after a quiet spell says how many were left out. Server thread only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    def warning(self, kind: str, message: str, *args: object) -> None:
        """Log ``message % args`` unless :data:`LOG_BURST` of ``kind`` were logged already in
        this window."""
        now = self._clock()
        start, count = self._windows.get(kind, (now, 0))
        if now - start >= LOG_WINDOW:
            if count > LOG_BURST:
                log.warning("resinspect: %d more %s warnings in %.0f s were not logged",
                            count - LOG_BURST, kind, now - start)
            start, count = now, 0
        count += 1
        self._windows[kind] = (start, count)
        if count <= LOG_BURST:
            log.warning(message, *args)
        elif count == LOG_BURST + 1:
            log.warning("resinspect: more %s warnings follow; logging them only as a count "
                        "for %.0f s", kind, LOG_WINDOW)
