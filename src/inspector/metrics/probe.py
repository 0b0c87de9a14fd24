"""The event-loop probe: a heartbeat on the GUI thread, read from any other thread.

A QTimer on the GUI thread stamps the time each time the event loop turns; the lag and the
GUI thread's Python stack are computed by whoever reads (the sampler, the socket server),
so both stay current while the GUI thread is frozen. The beat writes one attribute of a plain
object (10 ns; on a QObject it would cost 150 ns), ten times a second by default.
"""

from __future__ import annotations

import threading
import time
import weakref

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

from .stacks import MainThreadStack, stack_of


class _Beat:
    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = time.monotonic()


class LoopProbe:
    """Measures how long the GUI thread has not turned its event loop.

    Lag is 0 while the loop turned within one probe interval (plus half an interval for
    timer jitter); otherwise it is the time since the loop last turned.
    """

    def __init__(self, interval_ms: int = 100, threshold_ms: float = 500.0) -> None:
        self.interval_ms = interval_ms
        self.threshold_ms = threshold_ms
        self._beat = _Beat()
        self._timer: QTimer | None = None
        self._holder: QObject | None = None
        self._gui_ident: int | None = None
        #: Takes the GUI thread's stack from the GUI thread itself (see stacks.py).
        self.main_stack = MainThreadStack()

    @property
    def running(self) -> bool:
        """Whether the heartbeat is installed on a GUI thread."""
        return self._timer is not None

    def start(self) -> bool:
        """Install the heartbeat; only from the application's thread. False without an app."""
        app = QCoreApplication.instance()
        if self._timer is not None:
            return True
        if app is None or app.thread() is not QThread.currentThread():
            return False
        self._gui_ident = threading.get_ident()
        self.main_stack.install()  # only when the GUI thread is the main thread
        self._beat.last = time.monotonic()
        beat = self._beat
        clock = time.monotonic

        def stamp() -> None:
            beat.last = clock()

        # Parented to the application, so that dropping the last reference to this probe on
        # another thread (a server's, a sampler's) never deletes a running timer there, which
        # Qt does not survive; it is retired with deleteLater(), which is thread-safe.
        self._holder = QObject(app)
        self._timer = QTimer(self._holder)
        self._timer.setInterval(self.interval_ms)
        self._timer.timeout.connect(stamp)
        self._timer.start()
        self._retire = weakref.finalize(self, _retire, self._holder)
        return True

    def stop(self) -> None:
        """Remove the heartbeat (from the GUI thread)."""
        if self._timer is not None:
            self._timer = None
            self._holder = None
            self._retire()
        self.main_stack.uninstall()

    def lag_ms(self, now: float | None = None) -> float:
        """Milliseconds since the loop last turned, or 0 when it turns on time."""
        if self._timer is None:
            return 0.0
        elapsed = ((time.monotonic() if now is None else now) - self._beat.last) * 1000.0
        return elapsed if elapsed > self.interval_ms * 1.5 else 0.0

    def read(self) -> tuple[float, bool, list[str]]:
        """(lag in ms, blocked, the GUI thread's stack while blocked, innermost last)."""
        lag = self.lag_ms()
        blocked = lag > self.threshold_ms
        if not blocked or self._gui_ident is None:
            return lag, blocked, []
        return lag, blocked, stack_of(self._gui_ident, self.main_stack)


def _retire(holder: QObject) -> None:
    # deleteLater() posts the deletion to the holder's (the GUI) thread, whichever thread
    # this runs in; the timer, its child, goes with it.
    if shiboken6.isValid(holder):
        holder.deleteLater()
