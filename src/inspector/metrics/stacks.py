"""Python stacks of other threads, read as safely as CPython allows.

Reading another thread's frames is where an inspector can crash its host. Both obvious tools
crashed this project's tests on CPython 3.11 while QThreads came and went (PySide creates and
drops Python thread states for them): ``faulthandler.dump_traceback`` walks the thread-state
list without the runtime's lock, and ``sys._current_frames()`` materialises frame objects for
other threads' live frames (python/cpython#111363 is one open report).

So the stack that matters most, the GUI thread's while it is frozen, is taken by the GUI
thread itself: :class:`MainThreadStack` installs a signal handler (the main thread runs every
Python signal handler, and PEP 475 resumes the ``sleep`` or I/O call it interrupted), and the
handler formats its own frame. Only when that thread does not come back to Python within a
moment (it is blocked inside a C++ call that holds off signals) do we fall back to
``sys._current_frames()``. The all-thread listing (the ``stacks`` request, on demand) uses
``sys._current_frames()``, which at least holds the runtime's lock while it walks threads.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from inspector.resources.orphans import thread_was_terminated

from .hangs.frames import format_frames, outside_heartbeat

#: What a stack reads as when other threads' frames cannot be read safely.
UNREADABLE = ["<stacks of other threads are not read: a worker thread was terminated, and "
              "walking threads could crash the process>"]

#: The signal the GUI thread's stack is requested with. SIGURG is ignored by default, so a
#: stray one is harmless, and applications almost never use it.
STACK_SIGNAL = getattr(signal, os.environ.get("RESINSPECT_STACK_SIGNAL", "SIGURG"),
                       signal.SIGURG)


class MainThreadStack:
    """The main thread's stack, formatted by the main thread itself on request."""

    def __init__(self) -> None:
        self._installed = False
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._captured: list[str] = []
        #: Requests the handler has answered: a reader can tell whether one is still pending.
        self.served = 0

    @property
    def installed(self) -> bool:
        """Whether the handler is in place."""
        return self._installed

    def install(self) -> bool:
        """Install the handler (from the main thread only; an app's own handler wins)."""
        if self._installed:
            return True
        if threading.current_thread() is not threading.main_thread():
            return False
        current = signal.getsignal(STACK_SIGNAL)
        if current is _dispatch:
            if _active:
                return False  # another reader in this process has it
        elif current not in (signal.SIG_DFL, signal.SIG_IGN, None):
            return False  # the application uses this signal: leave it alone
        else:
            signal.signal(STACK_SIGNAL, _dispatch)
        _active[:] = [self]
        self._installed = True
        return True

    def uninstall(self) -> None:
        """Stop answering (from the main thread).

        The handler itself stays, doing nothing: a request sent just before may still be
        pending, and Python reports a pending signal whose handler was reset as an error
        (``Signal 23 ignored due to race condition``) - or, for a signal whose default
        action is to terminate, the process dies. The signal's default is to be ignored.
        """
        if self._installed and threading.current_thread() is threading.main_thread():
            if self in _active:
                _active.clear()
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # The heartbeat is often the Python code that runs the handler of a thread idle in
        # its event loop: leave it out, the stack is the loop's.
        self._captured = format_frames(outside_heartbeat(frame))
        self.served += 1
        self._ready.set()

    def read(self, timeout: float = 0.1) -> list[str] | None:
        """The main thread's stack, innermost last; None if it did not answer in time."""
        if not self._installed:
            return None
        if threading.current_thread() is threading.main_thread():
            return format_frames(sys._getframe(1))  # asked by the main thread itself
        main = threading.main_thread().ident
        if main is None:
            return None
        with self._lock:  # one request at a time
            self._ready.clear()
            signal.pthread_kill(main, STACK_SIGNAL)
            if not self._ready.wait(timeout):
                return None
            return list(self._captured)


#: The reader the handler answers for (at most one; empty while none is installed).
_active: list[MainThreadStack] = []


def _dispatch(signum: int, frame: FrameType | None) -> None:
    for reader in _active[:1]:
        reader._handle(signum, frame)


def stack_of(ident: int, main: MainThreadStack | None = None) -> list[str]:
    """One thread's stack: asked of the main thread itself when possible (see the module)."""
    if main is not None and ident == threading.main_thread().ident:
        own = main.read()
        if own is not None:
            return own
    if thread_was_terminated():
        return list(UNREADABLE)
    return format_frames(sys._current_frames().get(ident))


def thread_stacks(main: MainThreadStack | None = None) -> dict[int, list[str]]:
    """Every thread's stack, innermost last; the main thread's as :func:`stack_of` takes it."""
    if thread_was_terminated():
        stacks = {t.ident: list(UNREADABLE) for t in threading.enumerate()
                  if t.ident is not None}
    else:
        frames = sys._current_frames()
        stacks = {ident: format_frames(frame) for ident, frame in frames.items()}
        del frames
    main_ident = threading.main_thread().ident
    if main is not None and main_ident is not None:
        own = main.read()
        if own is not None:
            stacks[main_ident] = own
    return stacks


def thread_names() -> dict[int, str]:
    """Python's names for the threads it knows, by ident."""
    return {t.ident: t.name for t in threading.enumerate() if t.ident is not None}
