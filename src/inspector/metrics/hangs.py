"""The hang log: every stall of the GUI thread over a threshold, and where its time went.

Three parts, none of which needs Qt (the probe in ``probe.py`` wires them to the event loop):

* :class:`Beat` is what the GUI heartbeat writes. Its fast path reads two clocks (the time,
  the thread's CPU time) and writes two attributes; only a beat that comes late (a stall just
  ended) takes the slow path, which records the gap for the monitor.
* :class:`HangMonitor` is a thread that costs next to nothing while the loop turns: it sleeps
  until the next beat is overdue, and only then samples the GUI thread's Python stack, every
  10 ms, until the loop turns again. Each stall's samples are merged by function into
  :class:`~inspector.metrics.snapshot.Hang` records kept in a bounded :class:`HangLog`.
* :class:`StallWatchdog` covers what no Python thread can see: native code holding the GIL
  (a long ``re`` match, a C extension). ``faulthandler.dump_traceback_later`` runs a C thread
  that needs no GIL. The monitor thread - a Python thread, which runs only when it can take
  the GIL - re-arms it, so it fires only when no Python thread has run for its timeout: the
  GIL is held by native code, and every Python thread is parked where it cannot change its
  frames while the C thread walks them. (Fed by the GUI heartbeat instead, it also fired on
  stalls spent in Python, walking the frames of threads that kept running, and crashed a
  process once.) It writes every thread's frames to ``<runtime>/resinspect/<pid>.stall``
  (0600, beside the socket). The CLI reads that file when the application does not answer
  (:func:`read_stall_file`), and the monitor uses it afterwards to blame the frame the GUI
  thread was stuck in, not whatever ran once the GIL came back.

How the time of a stall is split: each sample stands for the time from it to the next one
(the stack seen persists until the next look). Time the monitor could not observe - it was
itself waiting for the GIL - goes to the watchdog's dump when one was taken then, else to the
sample before the gap (the frame that entered the native call), else it is reported as a
pseudo-frame saying no Python stack could be read. Frames every sample shares (``main``,
``exec``) are the stall's trunk; ``where`` starts at the deepest of them.

A stall's start is estimated: the heartbeat knows only that the loop last turned at ``b0``
and turned again at ``e``; the stall began somewhere in the beat interval after ``b0``, so
``start = b0 + interval / 2`` and durations are exact to half a beat interval - unless the
stall was spent computing, when the GUI thread's CPU time dates it (:func:`stall_start`).
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import itertools
import json
import logging
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from .snapshot import Hang, HangFrame
from .text import safe

log = logging.getLogger("inspector.metrics")

#: Stalls kept in the log (newest last); counts and totals cover the whole run.
HANG_LOG_SIZE = 100
#: Distinct top functions whose whole-run totals are kept.
TOP_FUNCTIONS = 256
#: How often the GUI thread's stack is read during a stall.
SAMPLE_INTERVAL_S = 0.010
#: Samples kept per stall; past it, every other one is dropped and the pace halves.
MAX_SAMPLES = 4000
#: Entries of a stall's ``where``.
WHERE_SIZE = 20
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
#: The pseudo-frame for time no Python stack could be read in.
UNOBSERVED = "(native code held the GIL: no Python stack could be read)"

#: Bytes at the start of the stall file that hold its JSON header; the dump follows.
STALL_HEADER = 4096
#: The watchdog fires when no Python thread has re-armed it for this long (so the CLI's
#: verdict on a native stall comes about this long after the stall began) ...
WATCHDOG_TIMEOUT_S = 0.6
#: ... and the monitor thread re-arms it this often (each arm starts a C thread: two and a
#: half a second keep the idle cost near 0.05 % of a core).
WATCHDOG_PERIOD_S = 0.4
#: Largest dump read back (faulthandler caps each thread at 100 frames).
_MAX_DUMP = 1 << 20

Frame = tuple[str, str, int]  # function, file, line


# -- frames ---------------------------------------------------------------------------------


def parse_frame(text: str) -> Frame:
    """``"function (file:line)"`` as a tuple; a malformed one keeps its text as the name."""
    head, colon, tail = text.rpartition(":")
    name, paren, filename = head.partition(" (")
    if not colon or not paren or not tail.endswith(")") or not tail[:-1].isdigit():
        return (text, "", 0)
    return (name, filename, int(tail[:-1]))


def format_frame(frame: Frame) -> str:
    """A frame tuple as ``"function (file:line)"``, the form every stack in a snapshot uses."""
    name, filename, line = frame
    return f"{name} ({filename}:{line})" if filename else name


_THREAD_LINE = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-fA-F]+)")
_FILE_LINE = re.compile(r'^\s+File "(?P<file>.*)", line (?P<line>\d+|\?\?\?) in (?P<name>.*)$')


def parse_dump(text: str) -> dict[int, list[str]]:
    """A ``faulthandler`` dump as ``{thread ident: stack innermost last}``.

    faulthandler lists each thread most recent call first; stacks here are innermost last,
    like every other stack resinspect shows.
    """
    threads: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        head = _THREAD_LINE.match(line)
        if head is not None:
            current = threads.setdefault(int(head.group(1), 16), [])
            continue
        if current is None:
            continue
        found = _FILE_LINE.match(line)
        if found is not None:
            number = found.group("line")
            current.append(format_frame((found.group("name"), found.group("file"),
                                         int(number) if number.isdigit() else 0)))
    for stack in threads.values():
        stack.reverse()
    return threads


# -- the stall file and its watchdog ----------------------------------------------------------


@dataclass
class StallReport:
    """What the stall file says, read without asking the application anything."""

    pid: int
    gui_thread: int
    gui_name: str
    #: When the monitor thread last re-armed the watchdog (a Python thread last ran): wall
    #: clock, and CLOCK_MONOTONIC (the same clock in every process on Linux, so a reader can
    #: tell how long ago that was).
    armed_at: float
    armed_mono: float
    timeout_s: float
    names: dict[int, str] = field(default_factory=dict)
    native_ids: dict[int, int] = field(default_factory=dict)
    #: The watchdog's dump, by thread ident, stacks innermost last; empty if it has not fired.
    stacks: dict[int, list[str]] = field(default_factory=dict)

    @property
    def fired(self) -> bool:
        """Whether the watchdog dumped the threads (no Python thread ran for its timeout)."""
        return bool(self.stacks)

    def stalled_for(self, now_mono: float | None = None) -> float:
        """Seconds since the watchdog was last re-armed."""
        return (time.monotonic() if now_mono is None else now_mono) - self.armed_mono

    @property
    def gui_stack(self) -> list[str]:
        """The GUI thread's stack in the dump, innermost last (empty if none)."""
        return list(self.stacks.get(self.gui_thread, []))

    def holder(self) -> tuple[int, str]:
        """(ident, name) of the thread most likely holding the GIL.

        A thread that is on a CPU (state R in ``/proc``) while the GUI thread is not holds it;
        otherwise it is the GUI thread, whose stall this is.
        """
        if _thread_state(self.pid, self.native_ids.get(self.gui_thread)) not in ("S", "D"):
            return self.gui_thread, self.gui_name
        for ident, native in self.native_ids.items():
            if ident != self.gui_thread and _thread_state(self.pid, native) == "R":
                return ident, self.names.get(ident, "")
        return self.gui_thread, self.gui_name

    def verdict(self) -> str:
        """One line: who holds the GIL since when, and the last Python frame seen there
        (names from the application shown escaped, like every text output)."""
        ident, name = self.holder()
        since = time.strftime("%H:%M:%S", time.localtime(self.armed_at))
        stack = self.stacks.get(ident, [])
        last = stack[-1] if stack else "none (no Python frame on that thread)"
        who = name or f"native id {self.native_ids.get(ident, '?')}"
        return (f"not answering: the GIL is held by a native call on thread {safe(who)} since "
                f"{since}; last Python frame {safe(last)}")


def _thread_state(pid: int, native_id: int | None) -> str:
    if not native_id:
        return ""
    try:
        data = Path(f"/proc/{pid}/task/{native_id}/stat").read_bytes()
    except OSError:
        return ""
    # The command name is in parentheses and may hold spaces: the state follows the last ")".
    rest = data[data.rfind(b")") + 1:].split()
    return rest[0].decode("ascii", "replace") if rest else ""


def read_stall_file(path: Path) -> StallReport | None:
    """The report in a stall file, or None if there is none or it is not one."""
    try:
        with open(path, "rb") as f:
            data = f.read(STALL_HEADER + _MAX_DUMP)
    except OSError:
        return None
    try:
        header = json.loads(data[:STALL_HEADER].rstrip(b"\0 \n") or b"null")
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    try:
        names = {int(k): str(v) for k, v in dict(header.get("names", {})).items()}
        native = {int(k): int(v) for k, v in dict(header.get("native_ids", {})).items()}
        report = StallReport(
            pid=int(header["pid"]), gui_thread=int(header["gui_thread"]),
            gui_name=str(header.get("gui_name", "")), armed_at=float(header["armed_at"]),
            armed_mono=float(header["armed_mono"]), timeout_s=float(header["timeout_s"]),
            names=names, native_ids=native)
    except (KeyError, TypeError, ValueError):
        return None
    report.stacks = parse_dump(data[STALL_HEADER:].decode("utf-8", "replace"))
    return report


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
            text = os.pread(fd, _MAX_DUMP, STALL_HEADER).decode("utf-8", "replace")
            dumped = (text, self._armed_mono + self.timeout_s)
            # Kept under the lock that took it off the file: a reader never finds it in
            # neither place.
            self._taken.append(dumped)
            self.dumps_taken += 1
        if self.threads_unsafe():
            # Walking the thread list after a terminate() can crash (see stacks.py).
            raise RuntimeError("a worker thread was terminated; threads are not walked")
        os.ftruncate(fd, STALL_HEADER)
        os.pwrite(fd, self._header(now_mono), 0)
        os.lseek(fd, STALL_HEADER, os.SEEK_SET)  # the dump goes after the header
        faulthandler.dump_traceback_later(self.timeout_s, repeat=False, file=fd, exit=False)
        self._armed_mono = now_mono
        return dumped

    def _header(self, now_mono: float) -> bytes:
        threads = threading.enumerate()
        names = {str(t.ident): t.name for t in threads if t.ident is not None}
        native = {str(t.ident): t.native_id for t in threads
                  if t.ident is not None and t.native_id is not None}
        names[str(self.gui_thread)] = self.gui_name
        if self.gui_native_id is not None:
            native[str(self.gui_thread)] = self.gui_native_id
        raw = json.dumps({
            "pid": os.getpid(), "gui_thread": self.gui_thread, "gui_name": self.gui_name,
            "armed_at": time.time() - (time.monotonic() - now_mono), "armed_mono": now_mono,
            "timeout_s": self.timeout_s, "names": names, "native_ids": native,
        }, separators=(",", ":")).encode()
        if len(raw) >= STALL_HEADER:  # very many threads: their names are what gives way
            raw = json.dumps({
                "pid": os.getpid(), "gui_thread": self.gui_thread, "gui_name": self.gui_name,
                "armed_at": time.time(), "armed_mono": now_mono, "timeout_s": self.timeout_s,
            }).encode()
        return raw.ljust(STALL_HEADER - 1) + b"\n"

    def dump_within(self, start: float, end: float) -> tuple[str, float] | None:
        """The newest dump that fired between ``start`` and ``end`` (monotonic), with when:
        one still in the file or one :meth:`rearm` took off it; None if there is none."""
        with self._lock:
            found: list[tuple[str, float]] = []
            if not self._closed and self._fd is not None:
                try:
                    if os.fstat(self._fd).st_size > STALL_HEADER:
                        text = os.pread(self._fd, _MAX_DUMP, STALL_HEADER)
                        found.append((text.decode("utf-8", "replace"),
                                      self._armed_mono + self.timeout_s))
                except OSError:
                    pass
            found.extend(reversed(self._taken))
        return next((d for d in found if start <= d[1] <= end), None)

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


# -- the heartbeat's side ---------------------------------------------------------------------


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
        under = _frames_of(_outside_heartbeat(sys._getframe(1)))
        base = self.base
        first = base is None
        if base is None:
            self.base = under
        elif under[:len(base)] != base:
            self.base = under[:_common_prefix([list(base), list(under)])]
        if now - self.last > self.gap_s and not first:  # start-up is not a stall of a loop
            self.gaps.append((self.last, now, self._cpu_clock() - self.cpu))


# -- merging a stall's samples ------------------------------------------------------------------


class _Stall:
    """The samples of one stall in progress: points in time, each a stack id."""

    __slots__ = ("beat", "cpu", "ids", "interval", "points", "stacks")

    def __init__(self, beat: float, interval: float) -> None:
        self.beat = beat
        self.interval = interval
        #: The GUI thread's CPU clock at the first and the latest sample: (time, cpu).
        self.cpu: list[tuple[float, float]] = []
        self.points: list[tuple[float, int, bool]] = []  # (time, stack id, late)
        self.ids: dict[tuple[str, ...], int] = {}
        self.stacks: list[tuple[str, ...]] = []

    def cpu_rate(self) -> float:
        """The share of a core the GUI thread used while it was sampled (1 if unknown)."""
        if len(self.cpu) < 2 or self.cpu[-1][0] - self.cpu[0][0] < 0.02:
            return 1.0
        (t0, c0), (t1, c1) = self.cpu[0], self.cpu[-1]
        return min(1.0, max(0.0, (c1 - c0) / (t1 - t0)))

    def add_cpu(self, t: float, cpu: float) -> None:
        """Note the GUI thread's CPU clock (kept: the first reading and the latest)."""
        if len(self.cpu) < 2:
            self.cpu.append((t, cpu))
        else:
            self.cpu[-1] = (t, cpu)

    def add(self, t: float, stack: list[str], late: bool) -> None:
        key = tuple(stack)
        sid = self.ids.get(key)
        if sid is None:
            sid = self.ids[key] = len(self.stacks)
            self.stacks.append(key)
        self.points.append((t, sid, late))
        if len(self.points) >= MAX_SAMPLES:
            # Every other sample covers the same time at half the resolution; the time each
            # stands for comes from the gaps between them, so nothing is lost but detail.
            self.points = self.points[::2]
            self.interval *= 2


def merge_stall(start: float, end: float, wall_start: float,
                points: list[tuple[float, tuple[str, ...], bool]],
                dump: tuple[list[str], float] | None = None,
                base: tuple[str, ...] = ()) -> Hang:
    """One :class:`Hang` from a stall's samples (see the module docstring for the rules).

    ``points`` are ``(monotonic time, stack innermost last, late)``; ``late`` marks a sample
    taken after a stretch the monitor could not observe. ``dump`` is the watchdog's stack of
    the GUI thread and when it was taken. ``base`` is the stack under the event loop (the
    frames that called ``exec()``), left out of ``where``.
    """
    seen = [(t, stack, late, False) for t, stack, late in points
            if start <= t <= end and stack]
    samples = len(seen)
    if dump is not None and dump[0] and start <= dump[1] <= end:
        seen.append((dump[1], tuple(dump[0]), False, True))
        seen.sort(key=lambda p: p[0])
    weights: dict[tuple[str, ...], float] = {}
    unobserved = 0.0
    blind = 0.0  # time seen only by the watchdog, or not at all: native code held the GIL
    if not seen:
        unobserved = blind = end - start
    else:
        lead = seen[0][0] - start
        if seen[0][2]:
            unobserved += lead
            blind += lead
        else:
            weights[seen[0][1]] = lead
            blind += lead if seen[0][3] else 0.0
        for index, (t, sampled, _late, watchdog) in enumerate(seen):
            following = seen[index + 1] if index + 1 < len(seen) else None
            span = max(0.0, (following[0] if following is not None else end) - t)
            weights[sampled] = weights.get(sampled, 0.0) + span
            if watchdog or (following is not None and following[2]):
                blind += span
    duration = end - start
    where = _where(weights, unobserved, base)
    stack: tuple[str, ...] = ()
    if weights:
        best = max(weights.items(), key=lambda item: item[1])
        if best[1] >= unobserved:
            stack = best[0]
    return Hang(started=round(wall_start, 3), duration_ms=round(duration * 1000.0, 1),
                stack=list(stack), where=where, samples=samples,
                native=blind > 0.5 * duration)


def _where(weights: dict[tuple[str, ...], float], unobserved: float,
           loop_base: tuple[str, ...] = ()) -> list[HangFrame]:
    stacks = [s for s, w in weights.items() if w > 0]
    if loop_base and all(s[:len(loop_base)] == loop_base for s in stacks):
        base = len(loop_base)  # what runs under the event loop: the callbacks and below
    else:
        base = max(0, _common_prefix([[_key(f) for f in s] for s in stacks]) - 1)
    by_key: dict[tuple[str, str], float] = {}
    lines: dict[tuple[str, str], dict[int, float]] = {}
    depth: dict[tuple[str, str], int] = {}
    for stack in stacks:
        w = weights[stack]
        counted: set[tuple[str, str]] = set()
        for index, text in enumerate(stack[base:]):
            name, filename, line = parse_frame(text)
            key = (name, filename)
            per_line = lines.setdefault(key, {})
            per_line[line] = per_line.get(line, 0.0) + w
            if key in counted:  # recursion: a sample counts once per function
                continue
            counted.add(key)
            by_key[key] = by_key.get(key, 0.0) + w
            depth[key] = min(depth.get(key, index), index)
    out = [HangFrame(frame=format_frame((k[0], k[1], max(lines[k].items(),
                                                          key=lambda i: i[1])[0])),
                     ms=round(w * 1000.0, 1), depth=depth[k])
           for k, w in by_key.items()]
    if unobserved > 0:
        out.append(HangFrame(frame=UNOBSERVED, ms=round(unobserved * 1000.0, 1)))
    out.sort(key=lambda f: (-f.ms, -f.depth))  # a tie: the callee is the more precise answer
    return [f for f in out[:WHERE_SIZE] if f.ms > 0]


#: Files whose frames are the heartbeat itself (here, and the probe's timer slot).
HEARTBEAT_FILES = frozenset({os.path.abspath(__file__),
                             os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "probe.py")})


def _outside_heartbeat(frame: FrameType | None) -> FrameType | None:
    """The first frame, from ``frame`` outward, that is not the heartbeat's own."""
    while frame is not None and frame.f_code.co_filename in HEARTBEAT_FILES:
        frame = frame.f_back
    return frame


def _frames_of(frame: FrameType | None) -> tuple[str, ...]:
    frames: list[str] = []
    while frame is not None and len(frames) < 200:
        frames.append(format_frame((frame.f_code.co_name, frame.f_code.co_filename,
                                    frame.f_lineno or 0)))
        frame = frame.f_back
    frames.reverse()
    return tuple(frames)


def _key(text: str) -> tuple[str, str]:
    name, filename, _line = parse_frame(text)
    return name, filename


def _common_prefix(stacks: list[list[Any]]) -> int:
    if not stacks:
        return 0
    first = stacks[0]
    length = min(len(s) for s in stacks)
    for index in range(length):
        if any(s[index] != first[index] for s in stacks[1:]):
            return index
    return length


def stall_start(b0: float, end: float, interval: float, cpu: float = 0.0,
                rate: float = 1.0) -> float:
    """When a stall between the beats at ``b0`` and ``end`` began.

    It began within one beat interval after ``b0`` (or the next beat would have come): the
    middle of that interval, unless the stall was spent computing. Then the GUI thread's CPU
    time between the beats (``cpu``), divided by the share of a core it got during the stall
    (``rate``: 1 on an idle machine, less when other processes compete), dates it - when
    that falls inside the interval.
    """
    gap = end - b0
    for share in (rate, 1.0):
        if share >= 0.1 and gap - interval <= cpu / share <= gap:
            return end - cpu / share
    return b0 + min(interval, gap) / 2


# -- the log ------------------------------------------------------------------------------------


class HangLog:
    """The last :data:`HANG_LOG_SIZE` stalls, and whole-run count, total, maximum and totals
    by top function (the innermost frame of a stall's most-seen stack). Thread-safe."""

    def __init__(self, size: int = HANG_LOG_SIZE) -> None:
        self._lock = threading.Lock()
        self._recent: deque[Hang] = deque(maxlen=size)
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self._by_top: dict[str, list[float]] = {}  # top function -> [count, ms]

    def add(self, hang: Hang) -> None:
        """Record one stall."""
        top = _top_function(hang)
        with self._lock:
            self._recent.append(hang)
            self.count += 1
            self.total_ms += hang.duration_ms
            self.max_ms = max(self.max_ms, hang.duration_ms)
            entry = self._by_top.get(top)
            if entry is None:
                if len(self._by_top) >= TOP_FUNCTIONS:  # bounded: the least time gives way
                    del self._by_top[min(self._by_top, key=lambda k: self._by_top[k][1])]
                entry = self._by_top[top] = [0, 0.0]
            entry[0] += 1
            entry[1] += hang.duration_ms

    def recent(self) -> list[Hang]:
        """The kept stalls, oldest first."""
        with self._lock:
            return list(self._recent)

    def totals(self) -> tuple[int, float, float]:
        """Whole run: (count, total ms, longest ms)."""
        with self._lock:
            return self.count, round(self.total_ms, 1), self.max_ms

    def by_function(self) -> list[dict[str, Any]]:
        """Whole run, by top function: ``{"frame", "count", "ms"}``, most time first."""
        with self._lock:
            items = [(k, int(v[0]), round(v[1], 1)) for k, v in self._by_top.items()]
        items.sort(key=lambda i: (-i[2], i[0]))
        return [{"frame": k, "count": c, "ms": ms} for k, c, ms in items]


def _top_function(hang: Hang) -> str:
    if hang.stack:
        name, filename, _line = parse_frame(hang.stack[-1])
        return f"{name} ({filename})" if filename else name
    return UNOBSERVED


# -- the monitor thread -------------------------------------------------------------------------


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
        self._stalls: dict[float, _Stall] = {}
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
            late = now - expected > LATE_S
            if now >= self._rearm_at:  # first: a dump taken during a stall belongs to it
                self._feed_watchdog(now)
            self.finish()
            last = beat.last
            if self._running() and beat.base is not None and now - last > self.detect_s:
                stall = self._stalls.get(last)
                if stall is None:
                    stall = self._stalls[last] = _Stall(last, self.sample_interval_s)
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
        points: list[tuple[float, tuple[str, ...], bool]] = []
        if stall is not None:
            points = [(t, stall.stacks[sid], late) for t, sid, late in stall.points]
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
