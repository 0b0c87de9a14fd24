"""The inspector's own memory, so snapshots can show the application's RSS without it.

Measuring every allocation the inspector makes (tracemalloc) would cost more than the
inspector itself. Instead each part that allocates in bulk charges what it added to the
process's resident set when it was set up, measured around its imports and construction
(``attach()`` for the model and the server, the dock when it builds its panel), and the
model adds the size of its own history rings. The sum is an estimate of the right order,
not an exact figure: another thread allocating during a measured step is charged too, and
memory the inspector frees later is not credited back.
"""

from __future__ import annotations

import threading

from inspector.resources import process_memory

_lock = threading.Lock()
_charges: dict[str, int] = {}


def charge(part: str, nbytes: int) -> None:
    """Record that ``part`` of the inspector added ``nbytes`` (clamped at 0); a part
    charged again replaces its previous figure."""
    with _lock:
        _charges[part] = max(0, int(nbytes))


def add(part: str, nbytes: int) -> None:
    """Add ``nbytes`` (clamped at 0) to ``part``'s charge."""
    with _lock:
        _charges[part] = _charges.get(part, 0) + max(0, int(nbytes))


def total() -> int:
    """Bytes charged by every part so far."""
    with _lock:
        return sum(_charges.values())


def charges() -> dict[str, int]:
    """A copy of the per-part charges."""
    with _lock:
        return dict(_charges)


def rss() -> int:
    """The process's resident set now, in bytes."""
    return process_memory()[0]


class Measured:
    """``with Measured("panel"):`` charges the RSS growth of the block to ``"panel"``
    (added to what the part was charged before)."""

    def __init__(self, part: str) -> None:
        self.part = part
        self._before = 0

    def __enter__(self) -> Measured:
        self._before = rss()
        return self

    def __exit__(self, *exc: object) -> None:
        add(self.part, rss() - self._before)
