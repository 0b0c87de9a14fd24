"""Building lifecycle events for the store's sink, only when somebody receives them."""

from __future__ import annotations

import time
from collections.abc import Callable

from .records import Component, Record, weak_callable
from .types import CallbackRun, EventKind, LifecycleEvent


class EventSink:
    """The store's one receiver of events, held weakly when it is a bound method (the
    service's dispatch: the service holds the store, which must not hold it back)."""

    __slots__ = ("_sink",)

    def __init__(self, sink: Callable[[LifecycleEvent], None] | None) -> None:
        self._sink = None if sink is None else weak_callable(sink)

    def resource(self, kind: EventKind, rec: Record, reason: str) -> None:
        """A resource was tracked or released (``reason`` says how)."""
        sink = None if self._sink is None else self._sink()
        if sink is not None:
            sink(LifecycleEvent(kind, rec.comp.cid, time.monotonic(), rec.rid,
                                rec.cell.rtype, rec.size, rec.comp.ctype, reason))

    def component(self, kind: EventKind, comp: Component, *, reason: str = "",
                  released: int = 0, callbacks: tuple[CallbackRun, ...] = ()) -> None:
        """An owner was registered, cleaned up or unregistered."""
        sink = None if self._sink is None else self._sink()
        if sink is not None:
            sink(LifecycleEvent(kind, comp.cid, time.monotonic(), component_type=comp.ctype,
                                reason=reason, released=released, callbacks=callbacks))
