"""The one place the resource store touches Qt: recognising QObjects and hearing them die.

``QtBridge`` implements inspector.resources.bridge.QtLink; the service hands it to the store,
which imports no Qt itself.

A Python weak reference is the wrong liveness test for a QObject: its wrapper can be collected
while a C++ parent keeps the object alive, and in PySide6 the wrapper may already be gone when
``destroyed`` fires. So QObjects are keyed by their C++ address, and each watched one has its
``destroyed`` connected to something that reports that address (docs/architecture.md,
"Measured facts"):

* the first :data:`LIGHT_LIMIT` watched at once from the main thread, a closure over the
  address that takes no argument, so PySide converts nothing: 2-4 µs a delete and about
  1.5 KiB an object;
* beyond that, or from another thread, one shared slot that takes the dying object.
  PySide has no wrapper for an object in ``~QObject`` and makes one by walking every
  QObject class it knows, building each: 5 MiB and 40 ms the first time, 17-21 µs a
  delete after (in a widgets app), but the same whatever the number alive, where a
  closure's cost grows with it (125 µs at 10,000).

So an application that the inspector follows through a few windows, threads and timers
(``resinspect run``) never pays for the conversion.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

log = logging.getLogger("inspector.resources")

_DIRECT = Qt.ConnectionType.DirectConnection


#: How many QObjects a bridge watches at once through a closure each (see the module's doc).
LIGHT_LIMIT = 256
#: Closures are connected on the main thread only: PySide keeps every connection to a
#: callable in one process-wide hash with no lock of its own (older releases erase from it
#: without even the GIL), and erases from it on the main thread, so the inspector adds to
#: it from there alone.
_MAIN_THREAD = threading.main_thread().ident


class QtBridge:
    """Classifies objects (cached per type) and reports QObject destruction by C++ address."""

    __slots__ = ("_light", "_on_destroyed", "_watcher", "known_types", "light_limit")

    def __init__(self, on_destroyed: Callable[[int], None], *,
                 light_limit: int | None = None) -> None:
        # isinstance(x, QObject) costs 161 ns through shiboken's metatype; a dict hit 28 ns.
        self.known_types: dict[type, bool] = {}
        self._on_destroyed = on_destroyed
        self._watcher = _DestroyedWatcher(on_destroyed)
        #: Closures connected and not yet fired. Updated without a lock from the destroying
        #: threads, so it may drift by a few: it only chooses between two correct ways.
        self._light = 0
        self.light_limit = LIGHT_LIMIT if light_limit is None else light_limit
        prepare()

    def is_qobject(self, obj: object) -> bool:
        """True when ``obj`` is a QObject (answer cached per type)."""
        tp = type(obj)
        known = self.known_types.get(tp)
        if known is None:
            known = self.known_types[tp] = issubclass(tp, QObject)
        return known

    def watch(self, obj: object) -> int:
        """Have ``obj``'s ``destroyed`` report its C++ address; return the address."""
        assert isinstance(obj, QObject)  # the store watches only what is_qobject accepted
        address = int(shiboken6.getCppPointer(obj)[0])
        # Direct: the report must come in the destroying thread while the object still
        # exists; a queued one would arrive after its address could name a new object.
        if self._light < self.light_limit and threading.get_ident() == _MAIN_THREAD:
            self._light += 1
            obj.destroyed.connect(self._reporter(address), _DIRECT)
        else:
            if not _warmed.is_set():
                _warm_up_destroyed_conversion()
            obj.destroyed.connect(self._watcher.on_destroyed, _DIRECT)
        return address

    def _reporter(self, address: int) -> Callable[[], None]:
        """A closure over ``address`` alone (never the object), taking no argument: PySide
        passes a callable only the arguments it takes, so the dying object is not
        converted."""
        report = self._light_fired

        def destroyed() -> None:
            report(address)

        return destroyed

    def _light_fired(self, address: int) -> None:
        self._light -= 1
        self._on_destroyed(address)

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
    watched through the shared slot.

    The first such conversion builds every QObject class PySide knows (and their Python enum
    types) lazily, on whatever thread it happens in; several threads doing it at once crash
    CPython (14 of 20 runs here, with 8 worker threads dropping their first QObjects
    together). Doing it once, under a lock, before any object watched through the slot can
    die, takes that race away. It waits for the first such object because it costs 5 MiB
    and 40 ms, which an application that has fewer than LIGHT_LIMIT QObjects watched at once,
    all from the main thread, never pays: their closures convert nothing.
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
    """Runs deferred calls on the main thread, from its event loop.

    ``posted`` carries a call's token, never the call: the call stays in ``_deferred``, where
    the exit clean-up (:func:`run_deferred`) finds it if the loop never turns again.
    """

    posted = Signal(object)  # not int: a C++ int would overflow after 2**31 calls

    def __init__(self) -> None:
        super().__init__()
        # Queued, explicitly: an automatic connection emitted on the receiver's own thread
        # (a collection on the main thread) would run the call at once, inside the very
        # frame the collection interrupted.
        self.posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, token: int) -> None:
        _run_deferred_call(token)


#: Calls handed to the main thread's loop and not yet run, by token. Written from inside
#: finalisers, so with single dict operations (atomic under the GIL) and no lock: the frame
#: a collection interrupted may hold any lock, our own included.
_deferred: dict[int, Callable[[], object]] = {}
_tokens = itertools.count(1)
_EXIT_ROUNDS = 100
_calls: list[_MainThreadCalls] = []  # made once, on first need
# Re-entrant: the receiver may first be needed inside a finaliser, and a collection while
# this thread makes it would need it again.
_calls_lock = threading.RLock()


def prepare() -> None:
    """Make the main thread's call receiver now, if an application exists.

    The bridge (when a service is made) and the service's ``hook_application`` call this,
    in ordinary code, so that the first deferred call does not have to make a QObject inside
    the frame a collection interrupted.
    """
    app = QCoreApplication.instance()
    if app is not None:
        _receiver(app)


def _receiver(app: QCoreApplication) -> _MainThreadCalls:
    if not _calls:
        with _calls_lock:
            if not _calls:
                calls = _MainThreadCalls()  # made here, so pushed to the main thread from here
                calls.moveToThread(app.thread())
                _calls.append(calls)
    return _calls[0]


def call_at_home(home: int | None, fn: Callable[[], object]) -> bool:
    """Run ``fn`` for something made on thread ``home``; return whether it ran now.

    Callers are finalisers (weak-reference callbacks, ``__del__``, a QObject's
    ``destroyed``): they may interrupt any frame, one that holds a lock the cleanup needs or
    is half-way through a ``print()``. So what the main thread made is handed to the main
    thread's event loop, also when the collecting thread is the main thread: here ``fn`` is
    only recorded and the loop woken; it runs at the loop's next turn, or, if the loop never
    turns again, at exit (:func:`run_deferred`), exactly once either way. The event loop is
    also the one place where Qt lets a cleanup stop the main thread's timers and close its
    widgets, whichever thread the last reference dropped on.

    With no Qt application, or for something made on another thread, ``fn`` runs now: there
    is no loop to hand it to. Without an application no loop will ever turn, so deferring
    would hold the owner's resources until exit; a thread of our own would run a worker's
    cleanup on the wrong thread (Qt refuses to stop a timer from another thread) and could
    be cut short by the interpreter's exit. A worker thread's own event loop, when it runs
    one, has no receiver a finaliser could post to: one would have to be made inside the
    interrupted frame, or in advance for every thread that registers an owner (most run no
    loop). docs/architecture.md, "The interrupted-frame rule", says so too.
    """
    app = QCoreApplication.instance()
    if app is None or home != threading.main_thread().ident or _exited:
        fn()
        return True
    receiver = _receiver(app)
    token = next(_tokens)  # next() on a count is atomic
    _deferred[token] = fn
    try:
        receiver.posted.emit(token)
    except RuntimeError:
        # The receiver's C++ object is gone: only PySide's own clean-up at interpreter exit
        # deletes it (with every parentless QObject Python owns), and no loop turns any
        # more. Nothing could run the call later: now, as with no application (once).
        if _deferred.pop(token, None) is None:
            return False
        fn()
        return True
    return False


def _run_deferred_call(token: int) -> bool:
    fn = _deferred.pop(token, None)  # whoever pops it runs it: the loop or the exit, once
    if fn is None:
        return False
    try:
        fn()
    except Exception:  # one failed call must not reach the event loop, nor stop the others
        log.exception("a call handed to the main thread failed")
    return True


def run_deferred() -> int:
    """Run, now and in the order they were deferred, the calls still waiting for the main
    thread's loop; return how many ran. The exit clean-up calls this: a loop that never
    turns again must not lose a cleanup, and one the loop runs later finds it gone."""
    ran = 0
    # A cleanup run here may defer another (an owner it dropped): rounds until none is
    # left, bounded so that one that defers itself for ever cannot hold the exit.
    for _ in range(_EXIT_ROUNDS):
        tokens = sorted(list(_deferred))  # list(): one atomic copy of the keys
        if not tokens:
            break
        for token in tokens:
            ran += _run_deferred_call(token)
    return ran


_exited = False  # set at interpreter exit: from then on no loop turns, calls run at once


@atexit.register
def _at_exit() -> None:
    """Run the calls no service's exit clean-up ran (a bare coordinator's, say); what is
    dropped after this (PySide deleting the application's objects) is cleaned up at once."""
    global _exited  # noqa: PLW0603 - one flag, written once, read by every call_at_home
    _exited = True
    run_deferred()
