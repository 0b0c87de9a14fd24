"""Patches on Qt's classes that hear an unmodified program: no line of it changes.

Installed before the program runs, this module imports only the standard library; Qt's
modules are patched as the program imports them (a ``sys.meta_path`` finder wraps their
loaders), or at once when they are already loaded. It patches, on the classes:

* ``QCoreApplication``/``QGuiApplication``/``QApplication.__init__``: the moment the
  application exists, for subclasses too (their ``super().__init__`` resolves to the patch);
* ``QThread.start`` and ``QTimer.start``: every thread and timer started from Python, with
  the site that started it and the object whose method did;
* ``QWidget.show`` (and its ``showNormal``/``Maximized``/``FullScreen`` siblings),
  ``QDialog.exec``/``open`` and the ``open`` of dialogs that define their own: windows, as they
  come up. Windows shown some other way are found by the tracker's once-a-second scan.

A patch on a shiboken class is not an override (shiboken compares a method with the classes'
own), so Qt's virtual calls behave as before. Every patch calls the original first and never
lets an exception of its own reach the program. What is heard before the tracker exists is
buffered (bounded) and handed over when it starts.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

from .notes import CLOSED, THREAD, TIMER, WINDOW, Note, Sink, Start, make_note, starter

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

log = logging.getLogger("inspector.reach")

#: Modules whose code is the inspector's own: what they start is never the program's.
_INTERNAL = ("inspector.metrics", "inspector.server", "inspector.ui", "inspector.resources",
             "inspector.attach", "inspector.reach.tracker", "inspector.fleet")
#: How many frames up a start is looked at to tell the inspector's own (the dock's plots
#: start timers from inside pyqtgraph, a few frames under inspector.ui).
_INTERNAL_DEPTH = 12
#: Notes kept while no tracker listens (start-up, before the event loop first turns).
PENDING_LIMIT = 10_000

__all__ = ["CLOSED", "THREAD", "TIMER", "WINDOW", "Note", "Sink", "Start", "install",
           "make_note", "on_every_app", "set_sink", "when_app_exists"]


class _State:
    """The module's mutable state, in one place."""

    sink: Sink | None = None
    last_app: Callable[[], object] | None = None
    finder: _QtFinder | None = None
    #: Whether starts and windows are patched too, not only the application's creation.
    observe = False


_lock = threading.RLock()
_monotonic = time.monotonic
_state = _State()
_pending: deque[Note] = deque(maxlen=PENDING_LIMIT)
#: Starts heard and not yet taken by the tracker's tick, oldest first (bounded, like
#: ``_pending``, for as long as no tracker takes them).
started: deque[Start] = deque(maxlen=PENDING_LIMIT)
#: Objects the tracker already knows, by id: a timer restarted a thousand times is noted once.
known: dict[int, Callable[[], object]] = {}
_app_waiters: list[Callable[[Any], None]] = []
_app_hooks: list[Callable[[Any], None]] = []
_patched: set[str] = set()


@atexit.register
def _forget() -> None:
    """Drop every weak reference to a Qt wrapper before the interpreter tears modules down.

    Cleared later, with the module, a weak reference whose wrapper shiboken already freed
    without clearing it crashes CPython (a program under ``resinspect run`` with raw
    QThreads, a timer and a controller's worker: 2 of 5 exits, SIGSEGV in clear_weakref).
    """
    with _lock:
        known.clear()
        _pending.clear()
        started.clear()
        _state.last_app = None


# -- public ------------------------------------------------------------------------------------


def install(*, observe: bool = True) -> None:
    """Patch Qt's modules now if loaded, else as the program imports them. Idempotent.

    With ``observe`` (``resinspect run``) thread and timer starts and windows are heard too;
    without, only the application's creation (``attach()`` made before it).
    """
    with _lock:
        _state.observe = _state.observe or observe
        for name in _PATCHERS:
            module = sys.modules.get(name)
            if module is not None:
                _patch_module(name, module)
        if _state.finder is None and not all(name in sys.modules for name in _PATCHERS):
            _state.finder = _QtFinder()
            sys.meta_path.insert(0, _state.finder)


def on_every_app(hook: Callable[[Any], None]) -> None:
    """Call ``hook(app)`` whenever a ``QCoreApplication`` (or subclass) has been made."""
    with _lock:
        _app_hooks.append(hook)
    install(observe=False)


def when_app_exists(callback: Callable[[Any], None]) -> None:
    """Call ``callback(app)`` once: now if an application exists, else when one is made."""
    core = sys.modules.get("PySide6.QtCore")
    app = core.QCoreApplication.instance() if core is not None else None
    if app is not None:
        callback(app)
        return
    with _lock:
        _app_waiters.append(callback)
    install(observe=False)


def set_sink(sink: Sink | None) -> list[Note]:
    """Route notes to ``sink`` from now on; return those buffered until now (oldest first)."""
    with _lock:
        _state.sink = sink
        pending = list(_pending)
        _pending.clear()
    return pending


# -- hearing -------------------------------------------------------------------------------------


#: What a frame's module is to :func:`_inspectors_own`: the inspector's own (what it starts
#: is not the program's), a library its panel starts timers through (look at its caller),
#: or other code: the program's, which starts its own.
_OWN, _VIA, _OTHER = 0, 1, 2
#: The libraries the inspector's panel starts timers through (its plots' own timers).
_VIA_LIBRARIES = ("pyqtgraph.",)
#: The verdict per module name, found once (a dict lookup instead of prefix tests per frame).
_verdicts: dict[str, int] = {}
_weakref = weakref.ref


def _verdict(module: str) -> int:
    verdict = (_OWN if module.startswith(_INTERNAL)
               else _VIA if module == "pyqtgraph" or module.startswith(_VIA_LIBRARIES)
               else _OTHER)
    if len(_verdicts) < 4096:  # module names; exec'd code may invent any number of them
        _verdicts[module] = verdict
    return verdict


def _inspectors_own(frame: FrameType | None) -> bool:
    """Whether what is started at ``frame`` is the inspector's own: its code is the caller,
    or called the library that is (the panel's plots start timers inside pyqtgraph).

    Code of the program decides at once, whatever called it: a start in the program's code
    is the program's (even in a callback the inspector runs), and most starts are found out
    in one look at one frame.
    """
    f = frame
    verdicts = _verdicts
    for _ in range(_INTERNAL_DEPTH):
        if f is None:
            return False
        module = f.f_globals.get("__name__", "")
        verdict = verdicts.get(module)
        if verdict is None:
            verdict = _verdict(str(module))
        if verdict != _VIA:
            return verdict == _OWN
        f = f.f_back
    return False


def _heard(kind: str, obj: object, frame: FrameType | None) -> None:
    """Record a start or a window (never raises into the program).

    This runs inside the program's call to ``start()``/``show()``, so it does the least it
    can: a restart of a known object returns at once; otherwise a short walk up the stack
    (to tell the inspector's own starts, ending where the program's code ends) and a
    :class:`Note`. The rest (the site's text, owners, tracking) is the tracker's, later.
    """
    try:
        ref = known.get(id(obj))
        if ref is not None and ref() is obj and kind != CLOSED:
            return
        if _inspectors_own(frame):
            return
        note = make_note(kind, obj, frame)
        if kind in (THREAD, TIMER):
            known[id(obj)] = note.ref  # a restart before the tracker's next tick is no news
        sink = _state.sink
        if sink is None:
            with _lock:
                if _state.sink is None:
                    _pending.append(note)
                    return
                sink = _state.sink
        sink(note)
    except Exception:  # the program must never see the inspector fail
        log.debug("resinspect: a %s start was not recorded", kind, exc_info=True)


def _started(kind: str, obj: object, frame: FrameType) -> None:
    """Record a QThread or QTimer start that is news (never raises into the program).

    The least that must be read inside the program's call, where each Python call adds to
    every start's cost, its code being cold (docs/architecture.md, "Measured facts"):
    the patch itself returns for a restart of a known object; the inspector's own starts are
    told by the caller's module (a look further up the stack, :func:`_inspectors_own`, only
    for a module not seen before or a library its panel starts timers through); a
    :data:`Start` is queued for the tracker, with the caller's code and offset (the site's
    text is made later) and the object whose method it was.
    """
    try:
        verdict = _verdicts.get(frame.f_globals.get("__name__", ""))
        if verdict != _OTHER and (verdict == _OWN or _inspectors_own(frame)):
            return
        ref = known[id(obj)] = _weakref(obj)
        owner, owner_class = starter(obj, frame)
        started.append((kind, ref, frame.f_code, frame.f_lasti, owner, owner_class,
                        _monotonic()))
    except Exception:  # the program must never see the inspector fail
        log.debug("resinspect: a %s start was not recorded", kind, exc_info=True)


# -- application -----------------------------------------------------------------------------


def _app_created(app: object) -> None:
    try:
        with _lock:
            if _state.last_app is not None and _state.last_app() is app:
                return
            _state.last_app = weakref.ref(app)
            waiters, _app_waiters[:] = list(_app_waiters), []
            hooks = list(_app_hooks)
        for fn in (*waiters, *hooks):
            try:
                fn(app)
            except Exception:
                log.warning("resinspect: could not attach to the application", exc_info=True)
    except Exception:
        log.debug("resinspect: application hook failed", exc_info=True)


# -- patches ---------------------------------------------------------------------------------


def _replace(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]
             ) -> None:
    original = cls.__dict__.get(name)
    if original is None or hasattr(original, "__resinspect_original__"):
        return
    wrapper = make(original)
    # Names only: functools.wraps would read __doc__, which makes shiboken build every
    # signature of the module while it is still being imported (slow, and it warns).
    wrapper.__name__ = name
    wrapper.__qualname__ = f"{cls.__name__}.{name}"
    wrapper.__resinspect_original__ = original  # type: ignore[attr-defined]
    setattr(cls, name, wrapper)


def _init_patch(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _app_created(self)
    return __init__


def _start_patch(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        getframe = sys._getframe
        known_get = known.get

        def start(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            ref = known_get(id(self))
            if ref is None or ref() is not self:  # a restart of a known object is no news
                _started(kind, self, getframe(1))
            return result
        return start
    return make


def _show_patch(original: Callable[..., Any]) -> Callable[..., Any]:
    getframe = sys._getframe

    def show(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        _heard(WINDOW, self, getframe(1))
        return result
    return show


def _exec_patch(original: Callable[..., Any]) -> Callable[..., Any]:
    getframe = sys._getframe

    def exec_(self: Any, *args: Any, **kwargs: Any) -> Any:
        _heard(WINDOW, self, getframe(1))  # before: exec() returns only once it is closed
        result = original(self, *args, **kwargs)
        _heard(CLOSED, self, getframe(1))
        return result
    return exec_


def _patch_core(module: ModuleType, observe: bool) -> None:
    _replace(module.QCoreApplication, "__init__", _init_patch)
    if observe:
        _replace(module.QThread, "start", _start_patch(THREAD))
        _replace(module.QTimer, "start", _start_patch(TIMER))


def _patch_gui(module: ModuleType, observe: bool) -> None:
    _replace(module.QGuiApplication, "__init__", _init_patch)


def _patch_widgets(module: ModuleType, observe: bool) -> None:
    _replace(module.QApplication, "__init__", _init_patch)
    if not observe:
        return
    for name in ("show", "showNormal", "showMaximized", "showFullScreen"):
        _replace(module.QWidget, name, _show_patch)
    for name in ("exec", "exec_"):
        _replace(module.QDialog, name, _exec_patch)
    # QMessageBox and QFileDialog define their own open(); touching each dialog class here
    # would build its type at start-up, so those are found by the tracker's scan instead.
    _replace(module.QDialog, "open", _show_patch)


_PATCHERS: dict[str, Callable[[ModuleType, bool], None]] = {
    "PySide6.QtCore": _patch_core,
    "PySide6.QtGui": _patch_gui,
    "PySide6.QtWidgets": _patch_widgets,
}


def _patch_module(name: str, module: ModuleType) -> None:
    with _lock:
        observe = _state.observe
        key = f"{name}:{'observe' if observe else 'app'}"
        if key in _patched:
            return
        _patched.add(key)
    try:
        _PATCHERS[name](module, observe)  # _replace skips what is patched already
    except Exception:
        log.warning("resinspect: could not hook %s; the program runs unobserved by it", name,
                    exc_info=True)


class _QtFinder:  # a meta path finder (importlib.abc costs 10 ms of imports at start-up)
    """Finds Qt's modules through the other finders and patches them once loaded."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname not in _PATCHERS:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec: ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, fullname)  # type: ignore[assignment]
        return spec


class _PatchingLoader:  # an importlib loader
    """The module's own loader, then the patches."""

    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _patch_module(self._name, module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)
