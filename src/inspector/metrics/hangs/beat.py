"""The heartbeat's side of the hang log: what the GUI thread's timer writes at each beat.

The fast path reads two clocks (the time, the thread's CPU time) and writes two attributes;
only a beat that comes late (a stall just ended) takes the slow path, which records the gap
for the monitor (:mod:`.monitor`).
"""

from __future__ import annotations

import sys
import time
from collections import deque

from .frames import common_prefix, format_frames, outside_heartbeat

#: Frames of the stack under the event loop kept at most.
_BASE_DEPTH = 200


class Beat:
    """What the GUI heartbeat writes: the time the loop last turned, and late beats.

    :meth:`stamp` is the whole per-beat cost in the usual case (a plain object, no lock):
    two clock reads and two attribute writes.
    """

    __slots__ = ("_clock", "_cpu_clock", "base", "cpu", "gap_s", "gaps", "interval_s", "last")

    def __init__(self, interval_s: float) -> None:
        self._clock = time.monotonic
        self._cpu_clock = time.thread_time
        self.interval_s = interval_s
        self.last = self._clock()
        #: The GUI thread's CPU time at the last beat (``time.thread_time``).
        self.cpu = 0.0
        #: A beat later than this after the previous one records a gap.
        self.gap_s = interval_s * 1.5
        #: ``(b0, e, cpu)``: the loop turned at ``b0`` and next at ``e``; ``cpu`` is the GUI
        #: thread's CPU time in between.
        self.gaps: deque[tuple[float, float, float]] = deque(maxlen=256)
        #: The GUI thread's stack under its event loop (the frames that called ``exec()``),
        #: as the heartbeat sees it; None until the first beat.
        self.base: tuple[str, ...] | None = None

    def stamp(self) -> None:
        """The loop turned: called on the GUI thread by its timer."""
        now = self._clock()
        if now - self.last > self.gap_s or self.base is None:
            self._slow(now)
        self.last = now
        self.cpu = self._cpu_clock()

    def _slow(self, now: float) -> None:
        # The frames under the loop, as the common part of what every slow beat sees: a
        # first beat inside a nested loop (processEvents() at start-up) is corrected later.
        under = tuple(format_frames(outside_heartbeat(sys._getframe(1)), _BASE_DEPTH))
        base = self.base
        first = base is None
        if base is None:
            self.base = under
        elif under[:len(base)] != base:
            self.base = under[:common_prefix([list(base), list(under)])]
        if now - self.last > self.gap_s and not first:  # start-up is not a stall of a loop
            self.gaps.append((self.last, now, self._cpu_clock() - self.cpu))
