"""Leaving safely: the inspector's exit work never runs inside an interrupted frame.

Exit reaches the inspector from the middle of other code in two ways, and both are handled
here (docs/architecture.md, "Exit paths"):

* Qt 6 emits ``aboutToQuit`` synchronously inside ``QCoreApplication.quit()``, and
  applications call ``quit()`` from a SIGTERM handler, which Python runs between any two
  bytecodes: inside a ``print()`` that holds its buffer's lock, inside a lock the interrupted
  code holds. Clean-up run there fails half-way (``RuntimeError: reentrant call inside
  <_io.BufferedWriter>``) or deadlocks. :func:`after_loop` therefore connects
  ``aboutToQuit`` straight to a sentinel QObject's ``deleteLater`` slot (C++ to C++: no
  Python runs inside ``quit()`` on our behalf); the work runs from the sentinel's
  ``destroyed``, which Qt emits when control is back in the event loop, at the latest in
  ``exec()``'s own clean-up after its loop ended: on the GUI thread, after the interrupted
  code has returned. With no loop to get back to, interpreter exit runs the same work
  (each user keeps its own ``atexit`` hook and runs once).
* A SIGTERM or SIGINT the application leaves to the default: :class:`GracefulSignals`
  replaces the default with a handler that only records. A timer on the GUI thread looks
  ten times a second (its Python slot is also where an idle loop gets Python's handler to
  run) and quits the application; once the clean-up has run, the signal is raised again
  with its default disposition, so the process ends exactly as it would have without
  resinspect (killed by SIGTERM, or SIGINT as an uncaught Ctrl-C ends Python). A second
  signal before that ends the process at once, as the default would. Python's wake-up fd
  is set (and drained by the timer) so an application's own wake-up fd is never replaced.
  Not a ``QSocketNotifier`` on that fd: the event loop polls a notifier's fd at every
  turn, 2-5 % of a loop of short timer slots (bench/bench_run.py), where a timer costs
  nothing until it fires.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import threading
import weakref
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

log = logging.getLogger("inspector")

#: How often the GUI thread looks for a signal that arrived (ms): the most a SIGTERM or a
#: Ctrl-C waits before the application starts to quit.
POLL_MS = 100

#: Kept alive until Qt deletes them: a sentinel whose wrapper Python collected would be
#: deleted at once, and run the work at the wrong moment.
_sentinels: set[QObject] = set()


def after_loop(work: Callable[[], object]) -> bool:
    """Run ``work`` on the GUI thread once the application's event loop has ended.

    Returns False when there is no application yet (the caller falls back on ``atexit``).
    A bound method is held weakly, so an object that registered is not kept alive by it.
    ``work`` runs at most once; an exception in it is logged.
    """
    app = QCoreApplication.instance()
    if app is None:
        return False
    ref = _weak(work)
    sentinel = QObject()
    _sentinels.add(sentinel)

    def loop_ended() -> None:
        _sentinels.discard(sentinel)
        fn = ref()
        if fn is None:
            return
        try:
            fn()
        except Exception:  # exit work must not break the application's own exit
            log.exception("resinspect: exit clean-up failed")

    sentinel.destroyed.connect(loop_ended)
    app.aboutToQuit.connect(sentinel.deleteLater)
    return True


@atexit.register
def _forget_sentinels() -> None:
    """At interpreter exit the work ran through ``atexit`` already: a sentinel that Python
    now destroys must not call back into a finalising interpreter."""
    for sentinel in list(_sentinels):
        with contextlib.suppress(RuntimeError, TypeError):  # already deleted, or unconnected
            sentinel.destroyed.disconnect()
    _sentinels.clear()


def _weak(fn: Callable[[], object]) -> Callable[[], Callable[[], object] | None]:
    if hasattr(fn, "__self__") and hasattr(fn, "__func__"):
        return weakref.WeakMethod(fn)
    return lambda: fn


class GracefulSignals:
    """SIGTERM and SIGINT, when the application left them to the default, end it cleanly.

    The handler only records; the GUI thread does the rest (see the module docstring).
    :meth:`restore` puts the previous dispositions back. Installing needs the main thread
    and a QCoreApplication; otherwise (or when the application already set a wake-up fd or
    its own handlers) nothing is changed and :attr:`signals` is empty.
    """

    #: Each signal, with the disposition that counts as "left to the default".
    DEFAULTS: dict[signal.Signals, object] = {
        signal.SIGTERM: signal.SIG_DFL,
        signal.SIGINT: signal.default_int_handler,
    }

    def __init__(self) -> None:
        self.signals: list[signal.Signals] = []
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, object] = {}
        self._read_fd = -1
        self._write_fd = -1
        self._timer: QTimer | None = None

    def install(self) -> GracefulSignals:
        """Take over the signals that are at their default; returns self."""
        app = QCoreApplication.instance()
        if app is None or threading.current_thread() is not threading.main_thread():
            return self
        wanted = [s for s, default in self.DEFAULTS.items() if signal.getsignal(s) is default]
        if not wanted:
            return self
        read_fd, write_fd = os.pipe()
        for fd in (read_fd, write_fd):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        try:
            previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except ValueError:  # not the main thread after all, or an invalid fd
            os.close(read_fd)
            os.close(write_fd)
            return self
        if previous_fd != -1:  # the application listens for signals its own way: leave it be
            signal.set_wakeup_fd(previous_fd)
            os.close(read_fd)
            os.close(write_fd)
            return self
        self._read_fd, self._write_fd = read_fd, write_fd
        self._timer = QTimer(app)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._woken)
        self._timer.start()
        for s in wanted:
            self._previous[s] = signal.signal(s, self._record)
        self.signals = wanted
        after_loop(self._raise_again)
        return self

    def restore(self) -> None:
        """Give the signals back to whatever handled them before; idempotent."""
        if threading.current_thread() is not threading.main_thread():
            return
        for s, previous in self._previous.items():
            if signal.getsignal(s) == self._record:
                signal.signal(s, previous)  # type: ignore[arg-type]
        self._previous.clear()
        self.signals = []
        if self._timer is not None:
            with contextlib.suppress(RuntimeError):  # Qt deleted it with the application
                self._timer.stop()
                self._timer.deleteLater()
            self._timer = None
        if self._write_fd != -1:
            with contextlib.suppress(ValueError):
                if signal.set_wakeup_fd(-1) != self._write_fd:  # someone else's since: keep it
                    signal.set_wakeup_fd(signal.set_wakeup_fd(-1))
            for fd in (self._read_fd, self._write_fd):
                os.close(fd)
            self._read_fd = self._write_fd = -1

    # -- inside the interrupted frame: record, or end the process as the default would ----

    def _record(self, signum: int, frame: FrameType | None) -> None:
        sig = signal.Signals(signum)
        loop_running = QThread.currentThread().loopLevel() > 0
        if self.received is not None or not loop_running:
            # A second signal, or no event loop to hand the first one to: the default now.
            if sig == signal.SIGINT:
                signal.default_int_handler(signum, frame)  # KeyboardInterrupt, as always
            self._default(sig)
            return
        self.received = sig

    # -- on the GUI thread, from the event loop --------------------------------------------

    def _woken(self) -> None:
        # Python runs a pending handler as this slot starts: so _record has run by now.
        if self.received is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._read_fd, 512):
                pass
        app = QCoreApplication.instance()
        if self.received is not None and app is not None:
            app.quit()

    def _raise_again(self) -> None:
        sig = self.received
        if sig is not None:
            self._default(sig)

    @staticmethod
    def _default(sig: signal.Signals) -> None:
        """End the process as ``sig`` does by default (an uncaught Ctrl-C ends Python so too)."""
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
