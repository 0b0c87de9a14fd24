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
live and dangling QObject wrappers by class (``census.py``), and, when a closed window waits
for it, runs the full collection that confirms a retained one (at most once per 10 s, never
again after one that took over 100 ms). What is kept of each object followed is in
``records.py``. Nothing here holds a strong reference to an object of the program.
"""

from __future__ import annotations

import collections
import gc
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer

from inspector.metrics.gcwatch import WATCH
from inspector.metrics.snapshot import QtObjectInfo
from inspector.resources import ResourceManagementService, ResourceType
from inspector.resources.types import EventKind, LifecycleEvent

from . import hooks
from .census import Census
from .records import ClassOwner, Seen, Window, is_window, object_rows, track, window_of

log = logging.getLogger("inspector.reach")
#: Deleted windows and gone objects still listed, newest kept.
GONE_KEPT = 50


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
        #: Windows displaced from ``_windows`` (see _displace) before they were deleted.
        self._displaced: dict[str, Window] = {}
        self._gone: collections.deque[Window | Seen] = collections.deque(maxlen=GONE_KEPT)
        self._numbers: dict[str, int] = {}
        self._owners: dict[str, ClassOwner] = {}
        self._next_census = 0.0
        self._last_forced_gc = -1e9
        self._forced_gc_ms = 0.0
        self._holder: QObject | None = None
        self._timer: QTimer | None = None
        self._failed: set[str] = set()
        service.add_listener(self._on_event)

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
            if obj is None or not shiboken6.isValid(obj) or not is_window(obj):
                return
            win = self._window(obj, note.site, note.time)
            self._refresh(win, obj, time.monotonic())
        except Exception:
            log.debug("resinspect: a window was not followed", exc_info=True)

    def drain(self) -> None:
        """Track the threads and timers heard since the last tick (GUI thread)."""
        started, known = hooks.started, hooks.known
        obj = None
        while True:  # what the patches kept inside the program's calls
            try:
                start = started.popleft()
            except IndexError:
                break
            # One gone within the second (a pool of short jobs) costs its note, no more.
            ref = start[1]
            obj = ref()
            if obj is None:
                continue
            if not shiboken6.isValid(obj):
                if known.get(id(obj)) is ref:
                    del known[id(obj)]  # a deleted object is never restarted
                continue
            self._queue.append(hooks.Note.of_start(start))
        del obj
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
            if seen is not None:
                if seen.ref() is obj:
                    return
                # A dead object's record at the address this one now has: keep it among
                # the gone rather than overwrite it.
                self._gone.append(self._objects.pop(id(obj)))
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
        top = window_of(obj)
        if top is None and note.creator is not None:
            creator = note.creator()
            if isinstance(creator, QObject) and shiboken6.isValid(creator):
                top = window_of(creator)
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
            if win is not None:
                if win.ref() is widget:
                    win.site = win.site or site  # first seen as an owner, then shown
                    return win
                self._displace(id(widget), win)
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
            cid = event.component_id
            win = self._by_cid.get(cid) or self._displaced.pop(cid, None)
            if win is not None and win.deleted_at is None:
                win.deleted_at = event.time

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
        """Adopt windows shown since, follow known ones, and drop what has gone."""
        self._adopt_windows(now)
        self._follow_windows(now)
        self._drop_dead_objects()
        self._trim_known_starts()

    def _adopt_windows(self, now: float) -> None:
        """Record visible top-level windows not known yet (shown without a hook's note)."""
        app = QCoreApplication.instance()
        top_levels = getattr(app, "topLevelWidgets", None)
        if top_levels is None:  # no QApplication (yet): no widgets to adopt
            return
        for widget in top_levels():
            known = self._windows.get(id(widget))
            if ((known is None or known.ref() is not widget) and widget.isVisible()
                    and is_window(widget)):
                self._window(widget, "", now)

    def _follow_windows(self, now: float) -> None:
        """Refresh each known window; retire those whose C++ object is gone."""
        with self._lock:
            windows = list(self._windows.items())
        for key, win in windows:
            widget = win.ref()
            if widget is None or not shiboken6.isValid(widget):
                if win.deleted_at is None and widget is None:
                    # The wrapper went; the C++ window may live on under a parent, which its
                    # component's `destroyed` will tell.
                    continue
                self._retire_window(key, win)
                continue
            self._refresh(win, widget, now)

    def _retire_window(self, key: int, win: Window) -> None:
        """Forget a deleted window (unless replaced meanwhile), keeping it among the gone."""
        with self._lock:
            if self._windows.get(key) is win:
                del self._windows[key]
                if self._by_cid.get(win.component_id) is win:
                    del self._by_cid[win.component_id]
                self._gone.append(win)

    def _displace(self, key: int, win: Window) -> None:
        """Keep a window whose wrapper is gone among the gone when a new widget takes its
        address (and so its key) before a tick retired it. Called with the lock held."""
        del self._windows[key]
        if self._by_cid.get(win.component_id) is win:
            del self._by_cid[win.component_id]
            if win.deleted_at is None:
                # Its component's cleanup is still queued, or its C++ object lives on under
                # a parent: the "unregistered" event that follows marks this record.
                self._displaced[win.component_id] = win
        self._gone.append(win)

    def _drop_dead_objects(self) -> None:
        """Forget started objects whose wrapper or C++ object is gone, keeping them among
        the gone."""
        obj = None
        with self._lock:
            for key, seen in list(self._objects.items()):
                obj = seen.ref()
                if obj is None or not shiboken6.isValid(obj):
                    del self._objects[key]
                    self._gone.append(seen)
        del obj  # the last object looked at is not kept alive by this frame

    @staticmethod
    def _trim_known_starts() -> None:
        """Forget the starts of objects that are gone, once there are many to look through."""
        if len(hooks.known) > 1024:
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
            if WATCH.last_started > win.closed_at:
                if win.confirmed_at is None and win.ref() is not None:
                    win.confirmed_at = WATCH.last_started
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
        return object_rows(self.objects(), self.windows(), now)
