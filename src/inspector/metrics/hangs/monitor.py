"""The hang monitor: a thread that samples the GUI thread's stack only while it is stalled.

It costs next to nothing while the loop turns: it sleeps until the next beat is overdue
(:mod:`.beat`), and only then samples the GUI thread's Python stack, every 10 ms, until the
loop turns again. Each stall's samples (:mod:`.samples`) are merged by function
(:mod:`.merge`) into records kept in a bounded :class:`~.hanglog.HangLog`. The same thread
re-arms the stall watchdog (:mod:`.watchdog`), so the watchdog fires only when no Python
thread can run.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

from .beat import Beat
from .frames import parse_dump
from .hanglog import HANG_LOG_SIZE, HangLog
from .merge import merge_stall, stall_start
from .samples import StallSamples
from .watchdog import StallWatchdog

log = logging.getLogger("inspector.metrics")

#: How often the GUI thread's stack is read during a stall.
SAMPLE_INTERVAL_S = 0.010
#: Shortest sleep of the monitor while the loop turns: ten wake-ups a second whatever the
#: beat, so a stall is seen at most this late (and dated by the beat, not by the monitor).
IDLE_WAKE_S = 0.1
#: A beat this much later than due makes the monitor start sampling.
DETECT_SLACK_S = 0.02
#: A stall in which the monitor went this long without a sample had native code holding the
#: GIL: its watchdog dump, not a fresh read, says where the GUI thread was.
BLIND_GAP_S = 0.5
#: A monitor that wakes later than it meant to by this much did not see that time: it was
#: kept from the GIL (a Python thread gives it up every 5 ms), not merely from a busy CPU.
LATE_S = 0.1


class HangMonitor:
    """Watches the heartbeat from its own thread; samples the GUI stack only during stalls.

    ``read_stack`` returns the GUI thread's stack (innermost last), or None when it cannot
    be read; ``running`` says whether the heartbeat is installed at all.
    """

    def __init__(self, beat: Beat, read_stack: Callable[[], list[str] | None],
                 running: Callable[[], bool], threshold_ms: float = 200.0,
                 sample_interval_s: float = SAMPLE_INTERVAL_S, log_size: int = HANG_LOG_SIZE
                 ) -> None:
        self.beat = beat
        self.threshold_ms = threshold_ms
        self.sample_interval_s = sample_interval_s
        self.log = HangLog(log_size)
        self._read_stack = read_stack
        self._running = running
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stalls: dict[float, StallSamples] = {}
        self._lock = threading.Lock()  # one finisher at a time (the thread, or a reader)
        #: The GUI thread's ident, to find its stack in a watchdog dump (set by the probe).
        self.gui_thread: int | None = None
        self._cpu_clock: int | None = None
        #: Whether the GUI thread's CPU clock can be read from another thread.
        self.gui_thread_cpu = True
        #: Samples taken (all stalls): the benchmark's and the tests' evidence.
        self.samples_taken = 0
        #: The stall watchdog this thread re-arms (None: none).
        self.watchdog: StallWatchdog | None = None
        #: The longest this thread woke past its time (kept from the GIL or from a CPU): the
        #: watchdog can fire only after such a delay, which is what tests check it against.
        self.longest_late_s = 0.0
        self._rearm_at = float("inf")

    def set_watchdog(self, watchdog: StallWatchdog | None) -> None:
        """Have this thread re-arm ``watchdog`` (None: stop), from the loop's first turn on."""
        self.watchdog = watchdog
        self._rearm_at = 0.0 if watchdog is not None else float("inf")

    def start(self) -> None:
        """Start the monitor thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="resinspect-hangs",
                                             daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread; stalls already ended are recorded first."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.finish()

    @property
    def detect_s(self) -> float:
        """How long after the last beat the loop counts as stalled and sampling starts."""
        return self.beat.interval_s + DETECT_SLACK_S

    def _run(self) -> None:
        beat = self.beat
        clock = time.monotonic
        expected = clock()
        due = 0.0  # the next sample's time while sampling: a fixed pace, whatever each costs
        while not self._stop.is_set():
            now = clock()
            self.longest_late_s = max(self.longest_late_s, now - expected)
            late = now - expected > LATE_S
            if now >= self._rearm_at:  # first: a dump taken during a stall belongs to it
                self._feed_watchdog(now)
            self.finish()
            last = beat.last
            if self._running() and beat.base is not None and now - last > self.detect_s:
                stall = self._stalls.get(last)
                if stall is None:
                    stall = self._stalls[last] = StallSamples(last, self.sample_interval_s)
                stack = self._sample()
                if stack is not None:
                    stall.add(clock(), stack, late)
                cpu = self._gui_cpu()
                if cpu is not None:
                    stall.add_cpu(clock(), cpu)
                # Paced on a fixed grid: waiting for the GIL to read a stack must not stretch
                # the interval (it would, by up to the 5 ms switch interval per sample).
                due = max(due + stall.interval, now) if due else now + stall.interval
                delay = max(0.0, due - clock())
            else:
                # Asleep until the next beat is overdue, and at least IDLE_WAKE_S: while the
                # loop turns the thread wakes ten times a second and reads one attribute.
                due = 0.0
                delay = max(last + self.detect_s - now, IDLE_WAKE_S)
            delay = min(delay, max(0.0, self._rearm_at - clock()))
            expected = clock() + delay
            # A plain sleep: on a busy 2-core machine an Event's timed wait cost twice as
            # much per wake-up, and this thread wakes about ten times a second.
            time.sleep(delay)

    def _feed_watchdog(self, now: float) -> None:
        """Re-arm the watchdog: a Python thread runs. Not before the loop's first turn:
        start-up, threads starting, is when walking them is riskiest."""
        watchdog = self.watchdog
        if watchdog is None or not self._running() or self.beat.base is None:
            self._rearm_at = now + IDLE_WAKE_S if watchdog is not None else float("inf")
            return
        watchdog.rearm(now)  # keeps what it took off the file for :meth:`_dump_within`
        self._rearm_at = now + watchdog.period_s if watchdog.active else float("inf")

    def _gui_cpu(self) -> float | None:
        """The GUI thread's CPU time, read from this thread (None where that is not possible)."""
        if self._cpu_clock is None and self.gui_thread is not None:
            try:
                self._cpu_clock = time.pthread_getcpuclockid(self.gui_thread)
            except (AttributeError, OSError):
                self.gui_thread_cpu = False
                return None
        if self._cpu_clock is None or not self.gui_thread_cpu:
            return None
        try:
            return time.clock_gettime(self._cpu_clock)
        except OSError:  # the thread is gone
            return None

    def _sample(self) -> list[str] | None:
        try:
            stack = self._read_stack()
        except Exception:  # a failed read is one missing sample, not a dead monitor
            log.debug("resinspect: reading the GUI stack failed", exc_info=True)
            return None
        self.samples_taken += 1
        return stack

    def finish(self) -> None:
        """Turn every stall the heartbeat has reported ended into a log entry."""
        with self._lock:
            # Read before the gaps: the heartbeat records a gap before it moves ``last``, so
            # a stall older than this ``last`` whose gap is not queued now was no stall.
            last = self.beat.last
            while self.beat.gaps:
                b0, end, cpu = self.beat.gaps.popleft()
                self._finish_one(b0, end, self._dump_within(b0, end), cpu)
            for key in [k for k in list(self._stalls) if k < last]:  # (the thread adds)
                self._stalls.pop(key, None)

    @property
    def dumps_taken(self) -> int:
        """Dumps the current watchdog wrote (one per native stall; 0 without one)."""
        watchdog = self.watchdog
        return watchdog.dumps_taken if watchdog is not None else 0

    def _dump_within(self, b0: float, end: float) -> tuple[str, float] | None:
        watchdog = self.watchdog
        return watchdog.dump_within(b0, end) if watchdog is not None else None

    def _finish_one(self, b0: float, end: float, dump: tuple[str, float] | None,
                    cpu: float = 0.0) -> None:
        stall = self._stalls.pop(b0, None)
        rate = stall.cpu_rate() if stall is not None else 1.0
        start = stall_start(b0, end, self.beat.interval_s, cpu, rate)
        if (end - start) * 1000.0 <= self.threshold_ms:
            return
        wall_start = time.time() - (time.monotonic() - start)
        points = stall.timeline() if stall is not None else []
        gui_dump: tuple[list[str], float] | None = None
        if dump is not None and self.gui_thread is not None:
            gui_dump = (parse_dump(dump[0]).get(self.gui_thread, []), dump[1])
        self.log.add(merge_stall(start, end, wall_start, points, gui_dump,
                                 self.beat.base or ()))

    def native_stack(self) -> list[str] | None:
        """The watchdog's stack of the GUI thread for the stall now in progress, if native
        code held the GIL during it - the monitor went :data:`BLIND_GAP_S` or longer without
        a sample - and the watchdog caught it; None otherwise.

        The gaps, not lateness alone, decide: a C extension that runs Python signal handlers
        now and then (``re`` does) lets a sample through in the middle of a long hold.
        """
        last = self.beat.last
        stall = self._stalls.get(last)
        times = [last, *(t for t, _sid, _late in (stall.points if stall else []))]
        times.append(time.monotonic())
        if max(b - a for a, b in itertools.pairwise(times)) < BLIND_GAP_S:
            return None  # sampled throughout: Python was running
        if self.gui_thread is None:
            return None
        dump = self._dump_within(last, float("inf"))
        if dump is None:
            return None
        return parse_dump(dump[0]).get(self.gui_thread) or None

    def current_stall_s(self) -> float:
        """How long the loop has been stalled now (0 while it turns on time)."""
        lag = time.monotonic() - self.beat.last
        return lag if lag > self.detect_s else 0.0
