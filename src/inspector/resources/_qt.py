"""The one place the resource store touches Qt: recognising QObjects and hearing them die.

``QtBridge`` implements inspector.resources.bridge.QtLink; the service hands it to the store,
which imports no Qt itself.

A Python weak reference is the wrong liveness test for a QObject: its wrapper can be collected
while a C++ parent keeps the object alive, and in PySide6 the wrapper may already be gone when
``destroyed`` fires. So QObjects are keyed by their C++ address and every one of them connects
``destroyed`` to a single shared slot (about 2 µs a delete whatever the number alive; a closure
per object costs 27-47 µs and grows with that number; docs/architecture.md, "Measured facts").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

log = logging.getLogger("inspector.resources")

_DIRECT = Qt.ConnectionType.DirectConnection


class QtBridge:
    """Classifies objects (cached per type) and reports QObject destruction by C++ address."""

    __slots__ = ("_watcher", "known_types")

    def __init__(self, on_destroyed: Callable[[int], None]) -> None:
        # isinstance(x, QObject) costs 161 ns through shiboken's metatype; a dict hit 28 ns.
        self.known_types: dict[type, bool] = {}
        self._watcher = _DestroyedWatcher(on_destroyed)

    def is_qobject(self, obj: object) -> bool:
        """True when ``obj`` is a QObject (answer cached per type)."""
        tp = type(obj)
        known = self.known_types.get(tp)
        if known is None:
            known = self.known_types[tp] = issubclass(tp, QObject)
        return known

    def watch(self, obj: object) -> int:
        """Connect ``obj.destroyed`` to the shared slot; return the object's C++ address."""
        assert isinstance(obj, QObject)  # the store watches only what is_qobject accepted
        if not _warmed.is_set():
            _warm_up_destroyed_conversion()
        address = int(shiboken6.getCppPointer(obj)[0])
        # Direct: the slot must run in the destroying thread while the object still exists;
        # queued delivery would arrive after the object is gone.
        obj.destroyed.connect(self._watcher.on_destroyed, _DIRECT)
        return address

    @staticmethod
    def is_valid(obj: object) -> bool:
        """False once the C++ side of a wrapper has been deleted."""
        return bool(shiboken6.isValid(obj))

    @staticmethod
    def address(obj: object) -> int:
        """A QObject's C++ address (the key its destruction is reported under)."""
        return int(shiboken6.getCppPointer(obj)[0])  # type: ignore[arg-type]

    @staticmethod
    def call_at_home(home: int | None, fn: Callable[[], object]) -> bool:
        """Run ``fn`` on the thread that made its owner (see the module's call_at_home)."""
        return call_at_home(home, fn)


class _DestroyedWatcher(QObject):
    """The shared receiver of every watched object's ``destroyed`` signal."""

    def __init__(self, on_destroyed: Callable[[int], None]) -> None:
        super().__init__()
        self._on_destroyed = on_destroyed

    @Slot(QObject)
    def on_destroyed(self, obj: QObject) -> None:
        # The argument is a wrapper for the dying object's pointer: its address is all we use.
        self._on_destroyed(int(shiboken6.getCppPointer(obj)[0]))


class _Warmup(QObject):
    @Slot(QObject)
    def seen(self, obj: QObject) -> None:
        pass


_warmed = threading.Event()
_warm_lock = threading.Lock()


def _warm_up_destroyed_conversion() -> None:
    """Convert one dying QObject for a slot, once per process, before the first QObject is
    watched.

    The first such conversion builds QtCore's Python enum types lazily, on whatever thread
    it happens in; several threads doing it at once crash CPython (14 of 20 runs here, with
    8 worker threads dropping their first QObjects together). Doing it once, under a lock,
    before any watched QObject can die, takes that race away. It waits for the first watched
    QObject rather than running when a service is made because it costs 4 MiB and 80 ms,
    which an application that tracks no QObject (or a bare ``attach()``) need not pay.
    """
    with _warm_lock:
        if _warmed.is_set():
            return
        receiver = _Warmup()
        victim = QObject()
        victim.destroyed.connect(receiver.seen, _DIRECT)
        del victim
        _warmed.set()


class _MainThreadCalls(QObject):
    """Runs callables on the main thread: ``posted`` is queued there from any other thread."""

    posted = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.posted.connect(self._run)

    @Slot(object)
    def _run(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception:  # one failed call must not reach the event loop
            log.exception("a call handed to the main thread failed")


_calls: list[_MainThreadCalls] = []  # made once, on first need
_calls_lock = threading.Lock()


def call_at_home(home: int | None, fn: Callable[[], object]) -> bool:
    """Run ``fn`` for something made on thread ``home``; return whether it ran now.

    Cleanups stop timers and close widgets, which Qt allows only from their own thread, yet
    the last reference to an owner may drop, and the cyclic collector run, on any thread.
    So what the main thread made, another thread hands back to the main thread's event loop;
    anything else (no Qt application, made on a worker thread, already home) runs now.
    """
    app = QCoreApplication.instance()
    here = threading.get_ident()
    if app is None or home != threading.main_thread().ident or here == home:
        fn()
        return True
    with _calls_lock:
        if not _calls:
            calls = _MainThreadCalls()  # made here, so pushed to the main thread from here
            calls.moveToThread(app.thread())
            _calls.append(calls)
    _calls[0].posted.emit(fn)
    return False
