"""What a test leaves behind in Qt: QThreads still running, QTimers still active, top-level
widgets still alive - each with the site that started or created it.

napari's test suite showed the way: patch ``QThread.start`` and ``QTimer.start`` on the
classes (PySide6 lets a Python attribute replace a method on a wrapped class), record a weak
reference and the calling site of every start, and look at them once the test is over.
Top-level widgets are compared with those that existed when the test began; a widget
created from Python also has its creation site: the constructor of every Qt widget class is
patched, since a subclass of ``QMainWindow`` or ``QDialog`` never goes through
``QWidget.__init__``.

Only QtCore is imported here. Widgets are watched when the application under test has
loaded QtWidgets itself (``sys.modules``): no widget can exist otherwise.
"""

from __future__ import annotations

import gc
import inspect
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QThread, QTimer

from ..metrics.why import describe_object

_THIS_PACKAGE = __file__.rsplit("/", 1)[0]
_LIBRARIES = ("/site-packages/", "/dist-packages/")


@dataclass(frozen=True)
class Leftover:
    """One thing a test left behind. ``ref`` lets the caller look for what keeps it alive."""

    kind: str
    what: str
    state: str
    site: str
    ref: Callable[[], object]

    def line(self) -> str:
        """``QThread 'loader' still running, started at run (app/jobs.py:12)``."""
        verb = "created" if self.kind == "widget" else "started"
        where = f", {verb} at {self.site}" if self.site else ""
        what = self.what if self.what.startswith(self.kind) else f"{self.kind} {self.what}"
        return f"{what} {self.state}{where}"


def frame_text(frame: Any) -> str:
    """``function (file:line)``, the form every site takes."""
    return f"{frame.f_code.co_name} ({frame.f_code.co_filename}:{frame.f_lineno})"


def call_site(frame: Any) -> str:
    """The site of ``frame``, plus the first application frame above it when ``frame`` is in
    a library (a thread started by a helper in site-packages: the helper, and who called it)."""
    if frame is None:
        return ""
    text = frame_text(frame)
    if not _is_library(frame.f_code.co_filename):
        return text
    caller = frame.f_back
    while caller is not None and _is_library(caller.f_code.co_filename):
        caller = caller.f_back
    return f"{text} called from {frame_text(caller)}" if caller is not None else text


def _is_library(filename: str) -> bool:
    return filename.startswith(_THIS_PACKAGE) or any(m in filename for m in _LIBRARIES)


def class_site(cls: type) -> str:
    """Where a Python class is defined, ``class Name (file:line)``; empty for Qt's own."""
    try:
        _, line = inspect.getsourcelines(cls)
        path = inspect.getsourcefile(cls)
    except (OSError, TypeError):
        return ""
    return f"class {cls.__qualname__} ({path}:{line})"


def settle() -> None:
    """Let go of what is already let go: collect cycles, carry out pending ``deleteLater``
    calls and posted events, twice (a deletion may post another)."""
    app = QCoreApplication.instance()
    on_gui_thread = app is not None and app.thread() is QThread.currentThread()
    for _ in range(2):
        gc.collect()
        if on_gui_thread:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            QCoreApplication.processEvents()


def _alive(obj: object) -> bool:
    return obj is not None and shiboken6.isValid(obj)


class QtWatch:
    """Records starts and creations while a test runs (between :meth:`begin` and
    :meth:`end`) and finds what is still running or alive afterwards (:meth:`leftovers`).

    :meth:`install` patches the classes for the whole session; :meth:`uninstall` restores
    them. Starts from any thread are recorded (under a lock); checks run on the test's thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = False
        self._threads: dict[int, tuple[weakref.ref[Any], str]] = {}
        self._timers: dict[int, tuple[weakref.ref[Any], str]] = {}
        self._widgets: dict[int, tuple[weakref.ref[Any], str]] = {}
        self._before: set[int] = set()
        self._restore: list[tuple[type, str, Any]] = []
        self._widget_class: type | None = None

    # -- patching -----------------------------------------------------------------------------

    def install(self) -> None:
        """Patch ``QThread.start`` and ``QTimer.start`` (and ``QWidget.__init__`` once QtWidgets
        is loaded) to record their sites."""
        if self._restore:
            return
        self._patch(QThread, "start", self._threads)
        self._patch(QTimer, "start", self._timers)
        self._patch_widgets()

    def uninstall(self) -> None:
        """Put the original methods back."""
        for cls, name, original in reversed(self._restore):
            setattr(cls, name, original)
        self._restore.clear()
        self._widget_class = None

    def _patch(self, cls: type, name: str, records: dict[int, tuple[weakref.ref[Any], str]]
               ) -> None:
        original = cls.__dict__[name]
        watch = self

        def start(obj: Any, *args: Any, **kwargs: Any) -> Any:
            if watch._active:
                site = call_site(sys._getframe(1))
                with watch._lock:
                    records[id(obj)] = (weakref.ref(obj), site)
            return original(obj, *args, **kwargs)

        start.__doc__ = original.__doc__
        self._restore.append((cls, name, original))
        setattr(cls, name, start)

    def _patch_widgets(self) -> None:
        """Patch the constructor of ``QWidget`` and of every Qt widget class: a Python
        subclass of ``QMainWindow`` or ``QDialog`` goes through its Qt base's constructor,
        which never calls ``QWidget.__init__`` from Python."""
        widgets = sys.modules.get("PySide6.QtWidgets")
        if widgets is None or self._widget_class is not None:
            return
        base: type = widgets.QWidget
        # dir(), not vars(): PySide6 makes a module's classes on first access (73 widget
        # classes, 75 ms once a session).
        for name in dir(widgets):
            cls = getattr(widgets, name, None)
            if isinstance(cls, type) and issubclass(cls, base) and "__init__" in cls.__dict__:
                original = cls.__dict__["__init__"]
                self._restore.append((cls, "__init__", original))
                setattr(cls, "__init__", self._recording_init(original))  # noqa: B010
        self._widget_class = base

    def _recording_init(self, original: Callable[..., None]) -> Callable[..., None]:
        watch = self
        records = self._widgets

        def __init__(obj: Any, *args: Any, **kwargs: Any) -> None:
            original(obj, *args, **kwargs)
            if watch._active:
                # The constructor's caller, above the subclasses' own __init__ frames.
                frame: Any = sys._getframe(1)
                while (frame is not None and frame.f_code.co_name == "__init__"
                       and frame.f_locals.get("self") is obj):
                    frame = frame.f_back
                site = call_site(frame)
                with watch._lock:
                    records.setdefault(id(obj), (weakref.ref(obj), site))

        return __init__

    # -- a test -------------------------------------------------------------------------------

    def begin(self) -> None:
        """A test starts: forget the last one's records, note the top-level widgets."""
        self._patch_widgets()  # QtWidgets may have been loaded since the session began
        with self._lock:
            self._threads.clear()
            self._timers.clear()
            self._widgets.clear()
        self._before = {_address(w) for w in _top_level_widgets()}
        self._active = True

    def end(self) -> None:
        """The test is over: stop recording."""
        self._active = False

    def leftovers(self, grace_s: float = 1.0) -> list[Leftover]:
        """What the test started or created and is still running or alive: threads get
        ``grace_s`` to finish. Call after :func:`settle`."""
        with self._lock:
            threads = list(self._threads.values())
            timers = list(self._timers.values())
            created = dict(self._widgets)
        found: list[Leftover] = []
        deadline = time.monotonic() + grace_s
        running = [(ref, site) for ref, site in threads if _running(ref())]
        while running and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.01)
            running = [(ref, site) for ref, site in running if _running(ref())]
        for ref, site in running:
            found.append(Leftover("QThread", describe_object(ref()), "still running", site, ref))
        for ref, site in timers:
            timer = ref()
            if timer is not None and _alive(timer) and timer.isActive():
                found.append(Leftover("QTimer", describe_object(timer), "still active", site, ref))
        for widget in _top_level_widgets():
            if _address(widget) in self._before or not shiboken6.createdByPython(widget):
                continue
            record = created.get(id(widget))
            site = record[1] if record is not None and record[0]() is widget else ""
            found.append(Leftover("widget", describe_object(widget), "still alive (top-level)",
                                  site or class_site(type(widget)), weakref.ref(widget)))
        return found

    def stop(self, leftovers: list[Leftover]) -> None:
        """Stop the threads and timers found, so they cannot disturb the tests that follow."""
        for item in leftovers:
            obj: Any = item.ref()
            if not _alive(obj):
                continue
            if item.kind == "QThread":
                obj.requestInterruption()
                obj.quit()
                obj.wait(2000)
            elif item.kind == "QTimer" and obj.thread() is QThread.currentThread():
                obj.stop()


def _running(thread: Any) -> bool:
    return _alive(thread) and bool(thread.isRunning())


def _address(obj: Any) -> int:
    return int(shiboken6.getCppPointer(obj)[0])


def _top_level_widgets() -> list[Any]:
    """Parentless windows alive now (none without a QApplication)."""
    app = QCoreApplication.instance()
    top_level = getattr(app, "topLevelWidgets", None)
    if top_level is None:
        return []
    return [w for w in top_level() if shiboken6.isValid(w) and w.parent() is None]
