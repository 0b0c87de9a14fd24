"""What the tracker keeps of each object it follows: windows, the threads and timers started
from Python, the owners standing for classes, and their rows in a snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt

from inspector.metrics.snapshot import QtObjectInfo
from inspector.resources import ResourceManagementService, ResourceType

from . import hooks

#: Window types that are windows to a user (not menus, tooltips or popups).
_WINDOW_TYPES = frozenset({Qt.WindowType.Window, Qt.WindowType.Dialog, Qt.WindowType.Sheet,
                           Qt.WindowType.Drawer, Qt.WindowType.Tool})
#: Rows of ``qt_objects`` in a snapshot at most.
OBJECT_ROWS = 500


def track(service: ResourceManagementService, owner: object, rtype: ResourceType,
          obj: object, *, name: str, site: str, **extra: Any) -> str:
    """Track ``obj`` for ``owner``: every resource this package tracks goes through here."""
    return service.track_resource(owner, rtype, obj, None, extra or None, name=name,
                                  site=site)


class ClassOwner:
    """The owner standing for a class (or module) whose code started something."""

    __slots__ = ("__weakref__", "name")

    def __init__(self, name: str) -> None:
        self.name = name


class Window:
    """A top-level window or dialog: its component, and when it was shown, closed, deleted."""

    __slots__ = ("class_name", "closed_at", "component_id", "confirmed_at", "deleted_at", "n",
                 "ref", "resource_id", "seen_at", "shown_at", "site", "title")

    def __init__(self, ref: Callable[[], object], class_name: str, n: int, component_id: str,
                 site: str, now: float) -> None:
        self.ref = ref
        self.class_name = class_name
        self.n = n
        self.component_id = component_id
        self.site = site
        self.resource_id = ""
        self.title = ""
        self.seen_at = now
        self.shown_at: float | None = None
        self.closed_at: float | None = None
        self.deleted_at: float | None = None
        #: When a full collection that began after the close found it still alive.
        self.confirmed_at: float | None = None


class Seen:
    """A QThread or QTimer started from Python."""

    __slots__ = ("class_name", "component_id", "kind", "name", "owner", "ref", "resource_id",
                 "site", "started_at", "window")

    def __init__(self, kind: str, ref: Callable[[], object], resource_id: str,
                 component_id: str, owner: object, window: Window | None, class_name: str,
                 name: str, site: str, now: float) -> None:
        self.kind = kind
        self.ref = ref
        self.resource_id = resource_id
        self.component_id = component_id
        self.owner = owner  # the owner object, for release (a window or a ClassOwner)
        self.window = window
        self.class_name = class_name
        self.name = name
        self.site = site
        self.started_at = now


def object_rows(objects: Iterable[Seen], windows: Iterable[Window], now: float
                ) -> list[QtObjectInfo]:
    """Threads, timers and windows with their state now, for a snapshot (the newest
    :data:`OBJECT_ROWS`)."""
    rows: list[QtObjectInfo] = []
    for seen in objects:
        obj = seen.ref()
        state, interval = _state(seen.kind, obj)
        rows.append(QtObjectInfo(
            resource_id=seen.resource_id, component_id=seen.component_id, kind=seen.kind,
            class_name=seen.class_name, name=seen.name, site=seen.site, state=state,
            interval_ms=interval, age_s=round(now - seen.started_at, 3)))
        del obj
    for win in windows:
        state = ("deleted" if win.deleted_at is not None
                 else "closed" if win.closed_at is not None
                 else "shown" if win.shown_at is not None else "hidden")
        rows.append(QtObjectInfo(
            resource_id=win.resource_id, component_id=win.component_id, kind="window",
            class_name=win.class_name, name=win.title, site=win.site, state=state,
            age_s=round(now - win.seen_at, 3)))
    return rows[-OBJECT_ROWS:]


def _state(kind: str, obj: Any) -> tuple[str, int]:
    if obj is None or not shiboken6.isValid(obj):
        return "deleted", 0
    if kind == hooks.THREAD:
        if obj.isRunning():
            return "running", 0
        return ("finished" if obj.isFinished() else "not started"), 0
    return ("active" if obj.isActive() else "stopped"), int(obj.interval())


def is_window(widget: Any) -> bool:
    try:
        return bool(widget.isWidgetType() and widget.isWindow()
                    and widget.windowType() in _WINDOW_TYPES)
    except (AttributeError, RuntimeError):
        return False


def window_of(obj: Any) -> Any:
    """The top-level window ``obj`` lives under (itself, for a window), or None."""
    o = obj
    for _ in range(256):
        if o is None:
            return None
        if o.isWidgetType():
            top = o.window()
            return top if is_window(top) else None
        o = o.parent()
    return None
