"""The stall watchdog: ``faulthandler``'s C thread, re-armed by the hang monitor's thread.

It covers what no Python thread can see: native code holding the GIL (a long ``re`` match, a
C extension). ``faulthandler.dump_traceback_later`` runs a C thread that needs no GIL. The
monitor thread - a Python thread, which runs only when it can take the GIL - re-arms it, so it
fires only when no Python thread has run for its timeout: the GIL is held by native code, and
every Python thread is parked where it cannot change its frames while the C thread walks them.
(Fed by the GUI heartbeat instead, it also fired on stalls spent in Python, walking the frames
of threads that kept running, and crashed a process once.) It writes every thread's frames to
the stall file (:mod:`.stallfile`), which the CLI reads when the application does not answer
and the monitor uses afterwards to blame the frame the GUI thread was stuck in, not whatever
ran once the GIL came back.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from ..gcwatch import WATCH
from .stallfile import MAX_DUMP, STALL_HEADER, encode_header

log = logging.getLogger("inspector.metrics")

#: The watchdog fires when no Python thread has re-armed it for this long (so the CLI's
#: verdict on a native stall comes at most this long after the stall began). Twice the
#: period would do on an idle machine; the margin over the period (0.8 s) is what a monitor
#: thread kept from every CPU by a loaded machine may lose before the watchdog walks threads
#: that still run Python (with 0.2 s, it did, and the walk crashed a loaded test app) ...
WATCHDOG_TIMEOUT_S = 1.2
#: ... and the monitor thread re-arms it this often (each arm starts a C thread: two and a
#: half a second keep the idle cost near 0.05 % of a core).
WATCHDOG_PERIOD_S = 0.4


class StallWatchdog:
    """``faulthandler``'s C watchdog, writing to the stall file; re-armed by the hang monitor.

    The file is created 0600 in the socket's private directory. :meth:`rearm` runs on the
    monitor thread and :meth:`close` on any thread; a lock keeps the two apart so
    the watchdog is never armed on a file descriptor that was closed (and maybe reused).
    faulthandler has one watchdog per process: the newest ``StallWatchdog`` has it, and an
    older one still open stops arming it (:attr:`active` turns False) and leaves it alone
    when it closes.
    """

    _open_lock = threading.Lock()
    _open: StallWatchdog | None = None

    def __init__(self, path: Path, gui_thread: int, gui_name: str, gui_native_id: int | None,
                 timeout_s: float = WATCHDOG_TIMEOUT_S, period_s: float = WATCHDOG_PERIOD_S,
                 threads_unsafe: Callable[[], bool] = lambda: False) -> None:
        self.path = path
        #: True once walking the thread list could crash (a worker was terminated).
        self.threads_unsafe = threads_unsafe
        self.timeout_s = timeout_s
        self.period_s = period_s
        self.gui_thread = gui_thread
        self.gui_name = gui_name
        self.gui_native_id = gui_native_id
        self._lock = threading.Lock()
        self._closed = False
        self._superseded = False
        self._quitting = False
        self._armed_mono = 0.0
        #: Dumps taken off the file by :meth:`rearm`, with when each fired: the newest few.
        self._taken: deque[tuple[str, float]] = deque(maxlen=8)
        #: Dumps the watchdog wrote (one per native stall): the tests' evidence.
        self.dumps_taken = 0
        with StallWatchdog._open_lock:
            if StallWatchdog._open is not None:
                StallWatchdog._open._superseded = True
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # a dead process's file of the same pid
            self._fd: int | None = os.open(
                path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            self._inode = os.fstat(self._fd).st_ino
            StallWatchdog._open = self
        WATCH.on_full_start(self._full_collection_starts)

    @property
    def active(self) -> bool:
        """Whether the file is open and this is the process's watchdog (the newest)."""
        return not self._closed and not self._superseded

    def rearm(self, now_mono: float) -> tuple[str, float] | None:
        """Cancel the pending watchdog, take any dump it wrote, and arm it again.

        Returns ``(dump text, when it fired)`` if the watchdog fired since the last arm.
        Called by the monitor thread; a failure turns the watchdog off (logged once).
        """
        with self._lock:
            if self._closed or self._superseded or self._quitting or self._fd is None:
                return None
            try:
                return self._rearm_locked(self._fd, now_mono)
            except (OSError, ValueError, RuntimeError) as exc:
                log.warning("resinspect: stall watchdog off: %s", exc)
                self._close_locked()
                return None

    def _rearm_locked(self, fd: int, now_mono: float) -> tuple[str, float] | None:
        faulthandler.cancel_dump_traceback_later()  # waits for a dump in progress
        dumped: tuple[str, float] | None = None
        if os.fstat(fd).st_size > STALL_HEADER:
            text = os.pread(fd, MAX_DUMP, STALL_HEADER).decode("utf-8", "replace")
            dumped = (text, self._armed_mono + self.timeout_s)
            # Kept under the lock that took it off the file: a reader never finds it in
            # neither place.
            self._taken.append(dumped)
            self.dumps_taken += 1
        if self.threads_unsafe():
            # Walking the thread list after a terminate() can crash (see stacks.py).
            raise RuntimeError("a worker thread was terminated; threads are not walked")
        os.ftruncate(fd, STALL_HEADER)
        os.pwrite(fd, encode_header(self.gui_thread, self.gui_name, self.gui_native_id,
                                   now_mono, self.timeout_s), 0)
        os.lseek(fd, STALL_HEADER, os.SEEK_SET)  # the dump goes after the header
        faulthandler.dump_traceback_later(self.timeout_s, repeat=False, file=fd, exit=False)
        self._armed_mono = now_mono
        return dumped

    def dump_within(self, start: float, end: float) -> tuple[str, float] | None:
        """The newest dump that fired between ``start`` and ``end`` (monotonic), with when:
        one still in the file or one :meth:`rearm` took off it; None if there is none."""
        with self._lock:
            found: list[tuple[str, float]] = []
            if not self._closed and self._fd is not None:
                try:
                    if os.fstat(self._fd).st_size > STALL_HEADER:
                        text = os.pread(self._fd, MAX_DUMP, STALL_HEADER)
                        found.append((text.decode("utf-8", "replace"),
                                      self._armed_mono + self.timeout_s))
                except OSError:
                    pass
            found.extend(reversed(self._taken))
        return next((d for d in found if start <= d[1] <= end), None)

    def _full_collection_starts(self) -> None:
        """A full collection starts: disarm until the monitor's next re-arm. It holds the GIL
        like a native call, but runs finalisers and weakref callbacks, Python code that pushes
        and frees frames on the collecting thread while the C thread would walk them (a
        collection of a large heap takes longer than the timeout). Like :meth:`stop_arming`,
        one C call and no lock: this runs inside the collector, in any frame."""
        if StallWatchdog._open is self and not self._closed:
            faulthandler.cancel_dump_traceback_later()

    def stop_arming(self) -> None:
        """The event loop is ending: the watchdog must not fire while the process winds down
        (dumping frames that exiting threads are freeing crashed 1 exit in 12). Runs inside
        ``quit()``, maybe inside an interrupted frame, so it takes no lock: a flag, and
        faulthandler's own cancel (a C call, never entered by a Python signal handler)."""
        self._quitting = True
        if StallWatchdog._open is self:
            faulthandler.cancel_dump_traceback_later()

    def close(self) -> None:
        """Disarm, close and remove the file (if it is still ours); idempotent."""
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._closed:
            return
        self._closed = True
        WATCH.on_full_start(self._full_collection_starts, remove=True)
        with StallWatchdog._open_lock:
            if StallWatchdog._open is self:
                StallWatchdog._open = None
                faulthandler.cancel_dump_traceback_later()
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            if os.lstat(self.path).st_ino == self._inode:
                os.unlink(self.path)


@atexit.register
def _no_watchdog_at_exit() -> None:
    """Interpreter exit, reached also without ``aboutToQuit`` (``sys.exit()`` in a slot): the
    watchdog must not dump the frames of a finalising interpreter."""
    with StallWatchdog._open_lock:
        if StallWatchdog._open is not None:
            StallWatchdog._open._quitting = True
            faulthandler.cancel_dump_traceback_later()
