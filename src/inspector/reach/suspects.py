"""Leaks that an unmodified program shows, named from what the tracker saw.

* ``retained_after_close``: a window closed, still alive after a full collection that began
  after the close, while a newer instance of its class exists (a reused dialog has none);
* ``orphan_worker`` / ``orphan_timer``: a QThread still running, a QTimer still active,
  ``orphan_grace_s`` after the window that owns it was closed or deleted;
* ``growth``: a census class whose live count rose in each of the last ``growth_windows``
  windows of ``growth_window_s``.

:func:`merge` adds them to the model's own suspects; a resource named here is not also
listed under a vaguer reason.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

import shiboken6

from inspector.metrics.snapshot import GROWTH, ORPHAN_WORKER, LeakSuspect

from . import hooks

if TYPE_CHECKING:
    from inspector.metrics.suspects import SuspectPolicy

    from .census import Census
    from .tracker import Tracker

RETAINED_AFTER_CLOSE = "retained_after_close"
ORPHAN_TIMER = "orphan_timer"


def suspect(component_id: str, resource_type: str, resource_id: str, reason: str,
            age_s: float, detail: str, *, name: str = "", site: str = "") -> LeakSuspect:
    """Every suspect of this package is made here."""
    return LeakSuspect(component_id=component_id, resource_type=resource_type,
                       resource_id=resource_id, reason=reason, age_s=round(age_s, 3),
                       detail=detail, name=name, site=site)


def merge(found: list[LeakSuspect], tracker: Tracker, policy: SuspectPolicy,
          now: float | None = None) -> list[LeakSuspect]:
    """``found`` plus this package's suspects; ours replace others for the same resource."""
    now = time.monotonic() if now is None else now
    mine = [*retained(tracker, now), *orphans(tracker, policy, now),
            *census_growth(tracker.census, policy)]
    named = {s.resource_id for s in mine if s.resource_id}
    return [s for s in found if s.resource_id not in named] + mine


def retained(tracker: Tracker, now: float) -> list[LeakSuspect]:
    """Closed windows still alive after a collection, with newer instances of their class."""
    out = []
    for win in tracker.windows():
        if (win.closed_at is None or win.deleted_at is not None or win.confirmed_at is None
                or tracker.newest_number(win.class_name) <= win.n):
            continue
        widget = win.ref()
        if widget is not None and not shiboken6.isValid(widget):
            continue
        del widget
        out.append(suspect(
            win.component_id, "widget", win.resource_id, RETAINED_AFTER_CLOSE,
            now - win.closed_at,
            f"closed, still alive after a full collection; a newer {win.class_name} exists",
            name=win.title or win.class_name, site=win.site))
    return out


def orphans(tracker: Tracker, policy: SuspectPolicy, now: float) -> list[LeakSuspect]:
    """Threads running and timers active whose owner window was closed or deleted."""
    out = []
    for seen in tracker.objects():
        win = seen.window
        if win is None:
            continue
        since = win.deleted_at if win.deleted_at is not None else win.closed_at
        if since is None or now - since < policy.orphan_grace_s:
            continue
        obj: Any = seen.ref()
        if obj is None or not shiboken6.isValid(obj):
            continue
        if seen.kind == hooks.THREAD:
            running = obj.isRunning()
            reason, rtype, what = ORPHAN_WORKER, "worker", "still running"
        else:
            running = obj.isActive()
            reason, rtype, what = ORPHAN_TIMER, "timer", "still active"
        del obj
        if not running:
            continue
        gone = "deleted" if win.deleted_at is not None else "closed"
        out.append(suspect(win.component_id, rtype, seen.resource_id, reason, now - since,
                           f"{seen.class_name} {what} after its window was {gone}",
                           name=seen.name, site=seen.site))
    return out


def census_growth(census: Census, policy: SuspectPolicy) -> list[LeakSuspect]:
    """Census classes that rose in each of the last ``growth_windows`` windows."""
    history = list(census.history)
    if not history:
        return []
    windows, span = policy.growth_windows, policy.growth_window_s
    last_t = history[-1][0]
    if last_t - history[0][0] < windows * span:
        return []
    points = []
    index = len(history) - 1
    for k in range(windows + 1):  # the newest sample at or before each window's end
        due = last_t - k * span
        while index > 0 and history[index][0] > due + 1e-6:
            index -= 1
        points.append(history[index][1])
    points.reverse()
    out = []
    for name, newest in points[-1].items():
        values = [p.get(name, 0) for p in points]
        if all(b > a for a, b in itertools.pairwise(values)):
            # The class in the type: growth rows are grouped by owner, type and site.
            out.append(suspect("*", f"qobject:{name}", "", GROWTH, windows * span,
                               f"{name}: {values[0]} -> {newest} live QObjects over "
                               f"{windows * span:g} s", name=name))
    return out
