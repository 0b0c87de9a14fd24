"""The event-loop probe: a heartbeat on the GUI thread, read from any other thread.

A QTimer on the GUI thread stamps the time each time the event loop turns; the lag and the
GUI thread's Python stack are computed by whoever reads (the sampler, the socket server),
so both stay current while the GUI thread is frozen. The beat writes one attribute of a plain
object (10 ns; on a QObject it would cost 150 ns), twenty times a second by default: the hang
log (``metrics/hangs``) dates a stall to within half a beat interval (25 ms), or by its CPU time.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

from inspector.resources.orphans import thread_was_terminated

from .hangs.beat import Beat
from .hangs.frames import format_frames
from .hangs.monitor import HangMonitor
from .stacks import UNREADABLE, MainThreadStack, stack_of

#: How long the hang sampler waits for the GUI thread's own signal handler before it reads
#: the frames from outside (the thread is in C++ and not running Python).
_SAMPLE_WAIT_S = 0.02


class LoopProbe:
    """Measures how long the GUI thread has not turned its event loop.

    Lag is 0 while the loop turned within one probe interval (plus half an interval for
    timer jitter); otherwise it is the time since the loop last turned.
    """

    def __init__(self, interval_ms: int = 50, threshold_ms: float = 500.0,
                 hang_threshold_ms: float = 200.0) -> None:
        self.interval_ms = interval_ms
        self.threshold_ms = threshold_ms
        self._beat = Beat(interval_ms / 1000.0)
        self._timer: QTimer | None = None
        self._holder: QObject | None = None
        self._gui_ident: int | None = None
        #: Takes the GUI thread's stack from the GUI thread itself (see stacks.py).
        self.main_stack = MainThreadStack()
        #: The hang log's sampler; it runs while the heartbeat is installed.
        self.hangs = HangMonitor(self._beat, self._sample_stack, lambda: self.running,
                                 threshold_ms=hang_threshold_ms)
        self._unanswered_mark: int | None = None
        self._unanswered_stack: list[str] = []

    @property
    def beat(self) -> Beat:
        """What the heartbeat writes (the hang monitor watches it)."""
        return self._beat

    @property
    def gui_ident(self) -> int | None:
        """The GUI thread's ``threading`` ident, once the heartbeat is installed."""
        return self._gui_ident

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
        beat = self._beat
        beat.interval_s = self.interval_ms / 1000.0
        beat.gap_s = beat.interval_s * 1.5
        beat.last = time.monotonic()
        self.hangs.gui_thread = self._gui_ident

        # Parented to the application, so that dropping the last reference to this probe on
        # another thread (a server's, a sampler's) never deletes a running timer there, which
        # Qt does not survive; it is retired with deleteLater(), which is thread-safe.
        self._holder = QObject(app)
        self._timer = QTimer(self._holder)
        self._timer.setInterval(self.interval_ms)
        # A function, not the bound method: PySide does not keep the receiver of a bound
        # method alive, and a beat freed under a running timer crashes the process.
        def stamp() -> None:
            beat.stamp()

        self._timer.timeout.connect(stamp)

        hangs = self.hangs

        def quitting() -> None:
            watchdog = hangs.watchdog
            if watchdog is not None:
                watchdog.stop_arming()

        # The stall watchdog must not outlive the event loop whose freezes it reports.
        app.aboutToQuit.connect(quitting)
        self._timer.start()
        self._retire = weakref.finalize(self, _retire, self._holder)
        self.hangs.start()
        return True

    def stop(self) -> None:
        """Remove the heartbeat (from the GUI thread)."""
        if self._timer is not None:
            self._timer = None
            self._holder = None
            self._retire()
        self.hangs.stop()
        self.main_stack.uninstall()

    def lag_ms(self, now: float | None = None) -> float:
        """Milliseconds since the loop last turned, or 0 when it turns on time."""
        if self._timer is None:
            return 0.0
        elapsed = ((time.monotonic() if now is None else now) - self._beat.last) * 1000.0
        return elapsed if elapsed > self.interval_ms * 1.5 else 0.0

    def read(self) -> tuple[float, bool, list[str]]:
        """(lag in ms, blocked, the GUI thread's stack while blocked, innermost last).

        A stall that ends while its stack is read reports no stack: what the thread runs by
        then is no longer the stall. After a stretch in which native code held the GIL, the
        stall watchdog's dump (the frame it was stuck in) is reported rather than whatever
        the thread went on to run once the GIL came back.
        """
        last = self._beat.last
        lag = self.lag_ms()
        blocked = lag > self.threshold_ms
        if not blocked or self._gui_ident is None:
            return lag, blocked, []
        native = self.hangs.native_stack()
        stack = native if native is not None else stack_of(self._gui_ident, self.main_stack)
        if self._beat.last != last:
            lag = self.lag_ms()
            return lag, lag > self.threshold_ms, []
        return lag, blocked, stack

    def _sample_stack(self) -> list[str] | None:
        """The GUI thread's stack for the hang sampler (its own thread, during a stall)."""
        ident = self._gui_ident
        if ident is None:
            return None
        main = self.main_stack
        if main.installed and ident == threading.main_thread().ident:
            # The thread formats its own frame in a signal handler. One that has not answered
            # has run no Python since: its stack is the one read from outside the first time
            # (walking other threads' frames is what can crash CPython 3.11, so once).
            if self._unanswered_mark is not None and main.served == self._unanswered_mark:
                return list(self._unanswered_stack)
            own = main.read(_SAMPLE_WAIT_S)
            if own is not None:
                self._unanswered_mark = None
                return own
            self._unanswered_mark = main.served
            self._unanswered_stack = self._outside(ident)
            return list(self._unanswered_stack)
        return self._outside(ident)

    @staticmethod
    def _outside(ident: int) -> list[str]:
        if thread_was_terminated():
            return list(UNREADABLE)
        return format_frames(sys._current_frames().get(ident))


def _retire(holder: QObject) -> None:
    # deleteLater() posts the deletion to the holder's (the GUI) thread, whichever thread
    # this runs in; the timer, its child, goes with it.
    if shiboken6.isValid(holder):
        holder.deleteLater()
