"""Python objects by type, on request only (``resinspect snapshot --objects``).

``gc.get_objects()`` holds the GIL for about 30 ms on a heap of two million objects, so this
runs only when a user asks, on the thread that asks (the socket server's), never on a timer
and never on the GUI thread.
"""

from __future__ import annotations

import collections
import gc

from .snapshot import TypeCount

#: Types listed at most, largest first.
OBJECT_ROWS = 50


def count_objects(limit: int = OBJECT_ROWS) -> list[TypeCount]:
    """The ``limit`` most numerous types among objects the collector tracks."""
    counts = collections.Counter(map(type, gc.get_objects()))
    rows = sorted(((f"{tp.__module__}.{tp.__qualname__}", n) for tp, n in counts.items()),
                  key=lambda row: (-row[1], row[0]))
    return [TypeCount(type_name=name, count=n) for name, n in rows[:limit]]
