"""What the model keeps of the service's lifecycle events: teardown audits, departed
components, and the markers on the history's time axis.

Events are rare (registrations, cleanups, deaths, never a tracked resource), so they are
recorded as they come, on whichever thread emits them: deque appends and dict writes only.
"""

from __future__ import annotations

from collections import deque

from inspector.resources.types import EventKind, LifecycleEvent

from .history import HistoryRings
from .snapshot import CallbackAudit, Marker, TeardownAudit

_MARKER_KIND = {
    EventKind.COMPONENT_REGISTERED: "registered",
    EventKind.CLEANUP_PERFORMED: "cleaned_up",
    EventKind.COMPONENT_UNREGISTERED: "destroyed",
}
#: Departed components remembered (their type and when they went), and how many of the
#: oldest are forgotten at once past that.
_DEPARTED_KEPT = 1024
_DEPARTED_DROP = 256


class TeardownLog:
    """The service's lifecycle events, as audits, departures and history markers."""

    def __init__(self, history: HistoryRings, started_mono: float, audit_size: int = 100
                 ) -> None:
        self._history = history
        self._started_mono = started_mono
        self._audits: deque[TeardownAudit] = deque(maxlen=audit_size)
        # Failing teardowns are kept apart: routine ones must not push them out of sight.
        self._failed: deque[TeardownAudit] = deque(maxlen=audit_size)
        self._departed: dict[str, tuple[str, float]] = {}

    def audits(self) -> list[TeardownAudit]:
        """The recent teardowns, plus every kept failing one they no longer include."""
        recent = list(self._audits)
        shown = {id(a) for a in recent}
        older = [a for a in list(self._failed) if id(a) not in shown]
        return older + recent

    def departed(self, component_id: str, now: float) -> tuple[str, float]:
        """(type, monotonic time it went) of a component that is gone; ``("component",
        now)`` for one never seen going."""
        return self._departed.get(component_id, ("component", now))

    def on_event(self, event: LifecycleEvent) -> None:
        """Record one event (the service's listener; any thread)."""
        kind = _MARKER_KIND.get(event.kind)
        if kind is None:
            return
        t = round(event.time - self._started_mono, 3)
        if event.kind is EventKind.CLEANUP_PERFORMED:
            if event.reason in ("destroyed", "collected"):
                kind = ""  # the unregistration that follows marks it as destroyed
            audit = TeardownAudit(
                component_id=event.component_id, reason=event.reason, t=t,
                released=event.released,
                callbacks=[CallbackAudit(name=c.name, priority=c.priority, order=c.order,
                                         duration_ms=round(c.duration_ms, 3), error=c.error)
                           for c in event.callbacks])
            self._audits.append(audit)
            if any(c.error for c in event.callbacks):
                self._failed.append(audit)
        elif event.kind is EventKind.COMPONENT_UNREGISTERED:
            self._departed[event.component_id] = (event.component_type or "component",
                                                  event.time)
            if len(self._departed) > _DEPARTED_KEPT:  # bounded: forget the oldest departures
                for cid in list(self._departed)[:_DEPARTED_DROP]:
                    del self._departed[cid]
        if kind:
            self._history.mark(Marker(t=t, kind=kind, component_id=event.component_id))
