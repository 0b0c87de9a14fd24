"""What ``resinspect run`` sees in an unmodified program, as resources of the one service.

The tracker takes the notes of :mod:`.hooks` (threads and timers started, windows shown)
and tracks each object in the application's own ``ResourceManagementService``, so ``top``,
snapshots, ``diff``, budgets, the dock and the exporter show them with no special case:
QThreads are ``worker`` resources (``active_workers`` counts the running ones), QTimers
``timer``, windows ``widget``. Owners (docs/architecture.md, "Reaching any application"):

* the top-level window an object lives under (its QObject parent chain), a component
  ``<Class>#<n>`` registered on the window itself, so its deletion cleans it up;
* else the window of the object whose method started it;
* else that object's class (``Loader``), or the module for code outside any class.

An object the application tracks itself is left to it, so nothing is counted twice.

Once a second, on the GUI thread, a tick notes windows shown and closed, takes the census of
live QObjects by class (``Shiboken.getAllValidWrappers``: about 2 ms at 10,000 objects) and
of wrappers whose C++ object is gone, and, when a closed window waits for it, runs the full
collection that confirms a retained one (at most once per 10 s, never again after one that
took over 100 ms). Nothing here holds a strong reference to an object of the program.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import gc
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from shiboken6 import Shiboken

from inspector.metrics.snapshot import CensusEntry, QtCensus, QtObjectInfo
from inspector.resources import ResourceManagementService, ResourceType
from inspector.resources.types import EventKind, LifecycleEvent

from . import hooks

log = logging.getLogger("inspector.reach")

#: Window types that are windows to a user (not menus, tooltips or popups).
_WINDOW_TYPES = frozenset({Qt.WindowType.Window, Qt.WindowType.Dialog, Qt.WindowType.Sheet,
                           Qt.WindowType.Drawer, Qt.WindowType.Tool})
#: Census classes reported in a snapshot (largest first); the rest are summed.
CENSUS_ROWS = 40
#: Deleted windows and gone objects still listed, newest kept.
GONE_KEPT = 50
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


class _Ref(weakref.ref):  # type: ignore[type-arg]
    __slots__ = ("key",)
    key: int


class Census:
    """Live QObject wrappers by class and dangling ones (C++ object deleted) by class.

    Every census counts the live wrappers (``getAllValidWrappers`` and a count by type, in C);
    every ``sweep_every``-th one also finds the wrappers that left the valid set while their
    Python object lives on (the dangling ones), which costs a set of ids and a set difference.
    """

    def __init__(self, sweep_every: int = 10) -> None:
        self.sweep_every = max(1, sweep_every)
        self._qobject_types: dict[type, bool] = {}
        self._known: dict[int, _Ref] = {}
        self._dangling: dict[int, _Ref] = {}
        self._dead: collections.deque[_Ref] = collections.deque()
        self._taken = 0
        self.last: QtCensus | None = None
        self.history: collections.deque[tuple[float, dict[str, int]]] = collections.deque(
            maxlen=600)
        # Weak references to thousands of wrappers still held when the interpreter tears its
        # modules down crash it (PySide6 6.11, seen at 10,000): forget them before that.
        atexit.register(self.clear)

    def clear(self) -> None:
        """Forget every weak reference (at exit, or when the tracker closes)."""
        self._known.clear()
        self._dangling.clear()
        self._dead.clear()

    def take(self, now: float, t: float) -> QtCensus:
        """One census (GUI thread): O(wrappers), in C but for the periodic sweep."""
        started = time.perf_counter()
        wrappers = Shiboken.getAllValidWrappers()
        by_type = collections.Counter(map(type, wrappers))
        kinds = self._qobject_types
        live: dict[str, int] = {}
        for tp, count in by_type.items():
            is_q = kinds.get(tp)
            if is_q is None:
                is_q = kinds[tp] = issubclass(tp, QObject) and not _own_class(tp)
            if is_q:
                live[tp.__name__] = live.get(tp.__name__, 0) + count
        if self._taken % self.sweep_every == 0:
            self._sweep(wrappers)
        self._taken += 1
        del wrappers
        dangling: dict[str, int] = {}
        obj = None
        for ref in list(self._dangling.values()):
            obj = ref()
            if obj is None:
                continue
            name = type(obj).__name__
            dangling[name] = dangling.get(name, 0) + 1
        del obj
        rows = sorted(live.items(), key=lambda kv: (-kv[1], kv[0]))
        entries = [CensusEntry(class_name=name, live=count, dangling=dangling.get(name, 0))
                   for name, count in rows[:CENSUS_ROWS]]
        shown = {e.class_name for e in entries}
        entries += [CensusEntry(class_name=name, live=0, dangling=count)
                    for name, count in sorted(dangling.items()) if name not in shown]
        census = QtCensus(t=round(t, 3), duration_ms=round((time.perf_counter() - started)
                                                           * 1000.0, 3),
                          live=sum(live.values()), dangling=sum(dangling.values()),
                          classes=entries)
        self.last = census
        self.history.append((now, live))
        return census

    def _sweep(self, wrappers: list[Any]) -> None:
        while self._dead:  # weak-reference callbacks only queue; forget them here
            ref = self._dead.popleft()
            if self._known.get(ref.key) is ref:
                del self._known[ref.key]
            if self._dangling.get(ref.key) is ref:
                del self._dangling[ref.key]
        # Built in C (a Python loop over 10,000 wrappers costs more than the listing).
        by_id = dict(zip(map(id, wrappers), wrappers, strict=True))
        known = self._known
        kinds = self._qobject_types
        on_dead = self._dead.append
        gone = known.keys() - by_id.keys()
        w = None
        for key in by_id.keys() - known.keys():
            w = by_id[key]
            if not kinds.get(type(w)):
                continue
            try:
                ref = _Ref(w, on_dead)
            except TypeError:
                continue
            ref.key = key
            known[key] = ref
        del by_id, w
        obj = None
        for key in gone:  # left the valid set: collected, or dangling if still here
            ref = known.pop(key)
            obj = ref()
            if obj is not None and not shiboken6.isValid(obj):
                self._dangling[key] = ref
        del obj


def _own_class(tp: type) -> bool:
    module = getattr(tp, "__module__", "") or ""
    return module.startswith("inspector.") and not module.startswith("inspector.demo")


class Tracker:
    """Turns :mod:`.hooks` notes into tracked resources and keeps windows and the census.

    Call :meth:`start` on the GUI thread once the application exists.
    """

    def __init__(self, service: ResourceManagementService, *, census_interval_s: float = 1.0,
                 tick_ms: int = 1000, gc_every_s: float = 10.0, confirm_after_s: float = 1.0,
                 on_main_window: Callable[[Any], None] | None = None) -> None:
        self.service = service
        self.store = service.store
        self.census_interval_s = census_interval_s
        self.tick_ms = tick_ms
        self.gc_every_s = gc_every_s
        self.confirm_after_s = confirm_after_s
        self.census = Census()
        self._on_main_window = on_main_window
        self._lock = threading.RLock()
        self._started = time.monotonic()
        self._objects: dict[int, Seen] = {}
        self._queue: collections.deque[hooks.Note] = collections.deque(
            maxlen=hooks.PENDING_LIMIT)
        self._windows: dict[int, Window] = {}
        self._by_cid: dict[str, Window] = {}
        self._gone: collections.deque[Window | Seen] = collections.deque(maxlen=GONE_KEPT)
        self._numbers: dict[str, int] = {}
        self._owners: dict[str, ClassOwner] = {}
        self._next_census = 0.0
        self._last_full_gc = 0.0
        self._last_forced_gc = -1e9
        self._forced_gc_ms = 0.0
        self._holder: QObject | None = None
        self._timer: QTimer | None = None
        self._failed: set[str] = set()
        service.add_listener(self._on_event)
        gc.callbacks.append(self._on_gc)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Hear notes from now on (those buffered first) and start the tick (GUI thread)."""
        for note in hooks.set_sink(self.hear):
            self.hear(note)
        app = QCoreApplication.instance()
        if app is not None and self._timer is None:
            self._holder = QObject(app)
            self._timer = QTimer(self._holder)
            self._timer.setInterval(self.tick_ms)
            self._timer.timeout.connect(self.tick)
            self._timer.start()
        self.tick()

    def close(self) -> None:
        """Stop hearing and ticking."""
        hooks.set_sink(None)
        self.census.clear()
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        self.service.remove_listener(self._on_event)
        holder, self._holder, self._timer = self._holder, None, None
        if holder is not None and shiboken6.isValid(holder):
            holder.deleteLater()

    # -- hearing --------------------------------------------------------------------------------

    def hear(self, note: hooks.Note) -> None:
        """Take what a patch heard (any thread; never raises).

        A window is followed at once. A thread or timer is queued for the next tick, which
        tracks it if it still exists: one that started and was deleted within the second
        costs the program its note and nothing more (a pool of short jobs starts hundreds).
        """
        if note.kind in (hooks.THREAD, hooks.TIMER):
            self._queue.append(note)
            return
        try:
            obj = note.ref()
            if obj is None or not shiboken6.isValid(obj) or not _is_window(obj):
                return
            win = self._window(obj, note.site, note.time)
            self._refresh(win, obj, time.monotonic())
        except Exception:
            log.debug("resinspect: a window was not followed", exc_info=True)

    def drain(self) -> None:
        """Track the threads and timers heard since the last tick (GUI thread)."""
        while True:
            try:
                note = self._queue.popleft()
            except IndexError:
                return
            try:
                obj = note.ref()
                if obj is not None and shiboken6.isValid(obj):
                    self._started_object(obj, note)
                del obj
            except Exception:
                log.debug("resinspect: a start was not tracked", exc_info=True)

    def _started_object(self, obj: Any, note: hooks.Note) -> None:
        with self._lock:
            seen = self._objects.get(id(obj))
            if seen is not None and seen.ref() is obj:
                return
            if self.store.resource_id_of(obj) is not None:
                return  # the application tracks it itself
            kind = hooks.THREAD if note.kind == hooks.THREAD else hooks.TIMER
            owner, window, cid = self._owner(obj, note)
            name = obj.objectName() or type(obj).__name__
            rtype = ResourceType.WORKER if kind == hooks.THREAD else ResourceType.TIMER
            rid = track(self.service, owner, rtype, obj, name=name, site=note.site,
                        qt_class=type(obj).__name__)
            self._objects[id(obj)] = Seen(kind, note.ref, rid, cid, owner, window,
                                          type(obj).__name__, name, note.site, note.time)

    def _owner(self, obj: Any, note: hooks.Note) -> tuple[object, Window | None, str]:
        top = _window_of(obj)
        if top is None and note.creator is not None:
            creator = note.creator()
            if isinstance(creator, QObject) and shiboken6.isValid(creator):
                top = _window_of(creator)
        if top is not None:
            win = self._window(top, "", note.time)
            return top, win, win.component_id
        name = note.creator_class or "?"
        owner = self._owners.get(name)
        if owner is None:
            owner = self._owners[name] = ClassOwner(name)
            self.service.register_component(owner, name, "class")
        return owner, None, name

    def _window(self, widget: Any, site: str, now: float) -> Window:
        with self._lock:
            win = self._windows.get(id(widget))
            if win is not None and win.ref() is widget:
                win.site = win.site or site  # first seen as an owner, then shown
                return win
            cls = type(widget).__name__
            existing = self.service.component_id(widget)
            n = self._numbers[cls] = self._numbers.get(cls, 0) + 1
            cid = existing or f"{cls}#{n}"
            if existing is None:
                self.service.register_component(widget, cid, "window")
            win = Window(weakref.ref(widget), cls, n, cid, site, now)
            self._windows[id(widget)] = win
            self._by_cid[cid] = win
            hooks.known[id(widget)] = win.ref
            if self.store.resource_id_of(widget) is None:
                win.resource_id = track(self.service, widget, ResourceType.WIDGET, widget,
                                        name=widget.windowTitle() or cls, site=site,
                                        qt_class=cls)
            return win

    def _refresh(self, win: Window, widget: Any, now: float) -> None:
        visible = widget.isVisible()
        if visible:
            if win.shown_at is None:
                win.shown_at = now
                if self._on_main_window is not None and hasattr(widget, "addDockWidget"):
                    callback, self._on_main_window = self._on_main_window, None
                    callback(widget)
            win.closed_at = None
            win.confirmed_at = None
            win.title = widget.windowTitle()
        elif win.shown_at is not None and win.closed_at is None:
            win.closed_at = now

    # -- events (any thread: they only record) -------------------------------------------------

    def _on_event(self, event: LifecycleEvent) -> None:
        if event.kind is EventKind.COMPONENT_UNREGISTERED:
            win = self._by_cid.get(event.component_id)
            if win is not None and win.deleted_at is None:
                win.deleted_at = event.time

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info.get("generation") == 2:
            self._last_full_gc = time.monotonic()

    # -- the tick (GUI thread) ----------------------------------------------------------------

    def tick(self) -> None:
        """Windows, double tracking, the census and a confirming collection, when due."""
        now = time.monotonic()
        self._step("tracking starts", self.drain)
        self._step("following windows", lambda: self._scan_windows(now))
        self._step("reconciling", self._reconcile)
        if now >= self._next_census:
            self._next_census = now + self.census_interval_s
            self._step("the census", lambda: self.census.take(now, now - self._started))
        self._step("confirming retained windows", lambda: self._confirm(now))

    def _step(self, what: str, step: Callable[[], object]) -> None:
        """One part of the tick; a failure is logged (a warning the first time), never
        raised into the event loop, and the other parts still run."""
        try:
            step()
        except Exception:
            level = logging.DEBUG if what in self._failed else logging.WARNING
            self._failed.add(what)
            log.log(level, "resinspect: %s failed", what, exc_info=True)

    def _scan_windows(self, now: float) -> None:
        app = QCoreApplication.instance()
        top_levels = getattr(app, "topLevelWidgets", None)
        if top_levels is not None:
            for widget in top_levels():
                if id(widget) not in self._windows and widget.isVisible() and _is_window(widget):
                    self._window(widget, "", now)
        with self._lock:
            windows = list(self._windows.items())
        for key, win in windows:
            widget = win.ref()
            if widget is None or not shiboken6.isValid(widget):
                if win.deleted_at is None and widget is None:
                    # The wrapper went; the C++ window may live on under a parent, which its
                    # component's `destroyed` will tell.
                    continue
                with self._lock:
                    if self._windows.get(key) is win:
                        del self._windows[key]
                        if self._by_cid.get(win.component_id) is win:
                            del self._by_cid[win.component_id]
                        self._gone.append(win)
                continue
            self._refresh(win, widget, now)
        obj = None
        with self._lock:
            for key, seen in list(self._objects.items()):
                obj = seen.ref()
                if obj is None or not shiboken6.isValid(obj):
                    del self._objects[key]
                    self._gone.append(seen)
        del obj
        if len(hooks.known) > 1024:  # forget the starts of objects that are gone
            for key, ref in list(hooks.known.items()):
                if ref() is None:
                    hooks.known.pop(key, None)

    def _reconcile(self) -> None:
        """Drop our record of an object the application has tracked since we did."""
        with self._lock:
            objects = list(self._objects.items())
        for key, seen in objects:
            obj = seen.ref()
            if obj is None or not self.store.is_tracked(seen.resource_id):
                continue
            current = self.store.resource_id_of(obj)
            if current is not None and current != seen.resource_id:
                self.service.release_resource(seen.owner, seen.resource_id)
                with self._lock:
                    self._objects.pop(key, None)

    def _confirm(self, now: float) -> None:
        """Run the full collection that a closed, still alive window waits for."""
        waiting = False
        for win in list(self._windows.values()):
            if win.closed_at is None or win.deleted_at is not None:
                continue
            if self._last_full_gc > win.closed_at:
                if win.confirmed_at is None and win.ref() is not None:
                    win.confirmed_at = self._last_full_gc
                continue
            waiting = waiting or now - win.closed_at >= self.confirm_after_s
        if (not waiting or now - self._last_forced_gc < self.gc_every_s
                or self._forced_gc_ms > 100.0):
            return
        started = time.perf_counter()
        self._last_forced_gc = now
        gc.collect()
        self._forced_gc_ms = (time.perf_counter() - started) * 1000.0
        for win in list(self._windows.values()):
            if (win.closed_at is not None and win.deleted_at is None
                    and win.confirmed_at is None and win.ref() is not None):
                win.confirmed_at = now

    # -- reading (any thread) -------------------------------------------------------------------

    def windows(self) -> list[Window]:
        """Known windows, live and recently gone."""
        with self._lock:
            return [*self._windows.values(),
                    *(w for w in self._gone if isinstance(w, Window))]

    def objects(self) -> list[Seen]:
        """Threads and timers being followed."""
        with self._lock:
            return list(self._objects.values())

    def newest_number(self, class_name: str) -> int:
        """The number of the newest window of ``class_name`` (0: none)."""
        return self._numbers.get(class_name, 0)

    def qt_objects(self, now: float) -> list[QtObjectInfo]:
        """Threads, timers and windows with their state now, for a snapshot."""
        rows: list[QtObjectInfo] = []
        for seen in self.objects():
            obj = seen.ref()
            state, interval = _state(seen.kind, obj)
            rows.append(QtObjectInfo(
                resource_id=seen.resource_id, component_id=seen.component_id, kind=seen.kind,
                class_name=seen.class_name, name=seen.name, site=seen.site, state=state,
                interval_ms=interval, age_s=round(now - seen.started_at, 3)))
            del obj
        for win in self.windows():
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


def _is_window(widget: Any) -> bool:
    try:
        return bool(widget.isWidgetType() and widget.isWindow()
                    and widget.windowType() in _WINDOW_TYPES)
    except (AttributeError, RuntimeError):
        return False


def _window_of(obj: Any) -> Any:
    """The top-level window ``obj`` lives under (itself, for a window), or None."""
    o = obj
    for _ in range(256):
        if o is None:
            return None
        if o.isWidgetType():
            top = o.window()
            return top if _is_window(top) else None
        o = o.parent()
    return None
