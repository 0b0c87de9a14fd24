"""Recordings: snapshots over time, one JSON object a line (NDJSON).

A recording is written one whole line per ``write(2)`` straight to the file descriptor, with
no buffer in between, so a recorder that is killed (even with SIGKILL) loses at most the
line it was writing: every line before it is complete and in the file. ``fsync=True`` also
makes each line survive a power failure, at the cost of a disk flush per snapshot.

:func:`read_recording` reads what a recorder left: it accepts a last line cut short (the
recorder died while writing it) and reports any other bad line as ``BadInput`` naming
``file:line``. It also reads a single snapshot file (one JSON document, compact or
indented), which is a recording of one frame.
"""

from __future__ import annotations

import bisect
import itertools
import os
import stat
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import msgspec

from ..errors import BadInput
from ..metrics.snapshot import SCHEMA, Snapshot
from .output import OutputTarget, check_output, open_stream

#: A replay never waits longer than this many typical intervals between two frames: a
#: recording that was paused for an hour replays its gap as a short pause.
MAX_GAP_FACTOR = 10.0


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """The snapshots of a file, and whether its last line was cut short (and dropped)."""

    path: Path
    snapshots: list[Snapshot]
    truncated: bool = False


#: Longest line (or single-document file) read: a snapshot of a huge application is a few
#: MiB. A longer one is refused instead of read whole (a 300 MB line, ``/dev/zero``).
MAX_LINE_BYTES = 64 << 20


def read_recording(path: str | os.PathLike[str]) -> list[Snapshot]:
    """Every snapshot of a recording (or of a single snapshot file), in order.

    A last line that is incomplete - no newline at its end and not a whole snapshot, what a
    killed recorder leaves - is dropped. Anything else that is not a resinspect snapshot is
    ``BadInput`` naming ``file:line``; so is an unreadable file, one that is not a regular
    file (a FIFO, a device) or one without any snapshot.
    """
    return load_recording(path).snapshots


def load_recording(path: str | os.PathLike[str]) -> Recording:
    """:func:`read_recording` that also says whether a cut-short last line was dropped."""
    scan = RecordingFile(path)
    snapshots = list(scan)
    return Recording(scan.path, snapshots, scan.truncated)


class RecordingFile:
    """The snapshots of a recording or snapshot file, streamed: one line in memory at a time.

    Iterate it (once); afterwards :attr:`count` says how many snapshots there were and
    :attr:`truncated` whether a cut-short last line was dropped (only with ``allow_cut``,
    the default: what a killed recorder leaves). Readers that need only the first and last
    snapshot (``diff``, ``top --replay --once``) hold two, whatever the file's size: reading
    whole files cost 1.48 GB for a 300 MB recording.
    """

    def __init__(self, path: str | os.PathLike[str], *, allow_cut: bool = True) -> None:
        self.path = Path(path)
        self.allow_cut = allow_cut
        self.count = 0
        self.truncated = False

    def __iter__(self) -> Iterator[Snapshot]:
        path = self.path
        with open_regular_file(path) as f:
            seen_text = False
            for lineno, raw in _lines(f, path):
                first, seen_text = not seen_text, True
                try:
                    snap = Snapshot.from_json(raw.strip())
                except msgspec.ValidationError as err:  # whole JSON, not a snapshot: no cut
                    raise BadInput(f"{path}:{lineno}: not a resinspect snapshot: {err}"
                                   ) from None
                except msgspec.DecodeError as err:
                    single = _single_document(f, path) if first else None
                    if single is not None:
                        self.count = 1
                        yield single
                        return
                    # Only the very last line can be a write the recorder did not finish: it
                    # has no newline after it.
                    cut_short = self.allow_cut and not raw.endswith(b"\n")
                    if not cut_short:
                        raise BadInput(f"{path}:{lineno}: not a resinspect snapshot: {err}"
                                       ) from None
                    self.truncated = True
                    break
                self.count += 1
                yield _checked(snap, f"{path}:{lineno}")
        if not self.count:
            raise BadInput(f"{path}: no complete snapshot in it" if seen_text
                           else f"{path}: empty file, no snapshot in it")


def _lines(f: BinaryIO, path: Path) -> Iterator[tuple[int, bytes]]:
    """The lines of ``f`` that hold any text, with their numbers (from 1); ``BadInput`` for
    one longer than :data:`MAX_LINE_BYTES`."""
    lineno = 0
    while raw := f.readline(MAX_LINE_BYTES + 1):
        lineno += 1
        if len(raw) > MAX_LINE_BYTES:
            raise BadInput(f"{path}:{lineno}: line longer than {MAX_LINE_BYTES} bytes, "
                           "not a resinspect snapshot")
        if raw.strip():
            yield lineno, raw


def first_and_last(path: str | os.PathLike[str]) -> tuple[Snapshot, Snapshot, int]:
    """The first and last snapshot of a file and how many it holds, streamed."""
    first: Snapshot | None = None
    last: Snapshot | None = None
    scan = RecordingFile(path)
    for snap in scan:
        if first is None:
            first = snap
        last = snap
    assert first is not None  # RecordingFile raises for a file without any
    assert last is not None
    return first, last, scan.count


def open_regular_file(path: Path) -> BinaryIO:
    """``path`` open for reading if it is a regular file; ``BadInput`` naming why not.

    Opened non-blocking and checked on the descriptor: ``diff`` of a FIFO hung, and of
    ``/dev/zero`` grew without bound.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise BadInput(f"cannot read {path}: {err.strerror or err}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            raise BadInput(f"cannot read {path}: it is {kind}, not a recording or snapshot "
                           "file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _single_document(f: BinaryIO, path: Path) -> Snapshot | None:
    """The one snapshot of a snapshot file (one JSON document, maybe indented over many
    lines), or None when the file is not a single document."""
    size = os.fstat(f.fileno()).st_size
    if size > MAX_LINE_BYTES:
        return None
    where = f.tell()
    f.seek(0)
    data = f.read(MAX_LINE_BYTES + 1)
    try:
        snap = Snapshot.from_json(data)
    except msgspec.ValidationError as err:
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError:
            f.seek(where)
            return None  # not one JSON document: a recording whose first line is wrong
        raise BadInput(f"{path}: not a resinspect snapshot: {err}") from None
    except msgspec.DecodeError:
        # Several lines (a recording), or a broken document: the line-by-line reading
        # names the line that is wrong.
        f.seek(where)
        return None
    return _checked(snap, str(path))


def _checked(snap: Snapshot, where: str) -> Snapshot:
    if snap.schema != SCHEMA:
        raise BadInput(f"{where}: schema {snap.schema!r} is not {SCHEMA!r}, "
                       "the one this resinspect reads")
    return snap


# -- writing -------------------------------------------------------------------------------


class RecordingWriter:
    """Writes snapshots to a file, one line each, each line with one unbuffered write.

    ``path`` is checked at once (``BadInput`` for a directory, a socket, a missing parent:
    :mod:`inspector.fleet.output`) but created or truncated only when the first snapshot is
    written, so a recording that fails before it has anything (a wrong interval, an
    application that refuses) leaves an existing file as it was. A regular file gets the
    umask's permissions, as ``>`` would give; a device or FIFO is written through, never
    replaced. ``"-"`` writes to ``stdout`` instead (flushed per line). Failures are
    ``BadInput`` naming the path. Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False,
                 stdout: BinaryIO | None = None) -> None:
        self.path = Path(path)
        self.fsync = fsync
        #: Snapshots and bytes written so far.
        self.count = 0
        self.bytes = 0
        self._stream: BinaryIO | None = None
        self._fd: int | None = None
        self._target: OutputTarget | None = None
        self._closed = False
        if str(path) == "-":
            if stdout is None:
                import sys

                stdout = sys.stdout.buffer
            self._stream = stdout
            return
        self._target = check_output(self.path)

    def write(self, snapshot: Snapshot) -> int:
        """Append ``snapshot`` as one line; return the bytes written."""
        line = snapshot.to_json() + b"\n"
        try:
            if self._stream is not None:
                self._stream.write(line)
                self._stream.flush()
            elif not self._closed and self._target is not None:
                if self._fd is None:
                    self._fd = open_stream(self._target)
                _write_all(self._fd, line)
                if self.fsync and not self._target.through:  # (a device has no disk)
                    os.fsync(self._fd)
            else:
                raise BadInput(f"cannot write {self.path}: the recording is closed")
        except OSError as err:
            raise BadInput(f"cannot write {self.path}: {err.strerror or err}") from None
        self.count += 1
        self.bytes += len(line)
        return len(line)

    def close(self) -> None:
        """Close the file (not stdout); idempotent."""
        fd, self._fd = self._fd, None
        self._stream = None
        self._closed = True
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    # A write to a regular file is complete in one call in practice (signals do not
    # interrupt it on Linux); the loop covers the rare short write, e.g. a nearly full disk.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@dataclass(frozen=True)
class Progress:
    """Where a recording stands after a snapshot was written."""

    snapshots: int
    bytes: int
    elapsed_s: float
    last: Snapshot


def record(
    snapshots: Iterable[Snapshot],
    writer: RecordingWriter,
    *,
    interval: float,
    duration: float | None = None,
    on_snapshot: Callable[[Progress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Progress | None:
    """Write ``snapshots`` (about ``interval`` seconds apart) until they end or ``duration``.

    With a duration the recording holds the snapshots at 0, ``interval``, 2 * ``interval``
    ... up to ``duration`` seconds: it stops after the last snapshot due no later than the
    duration, rather than wait a whole interval past it. Errors of the source (an
    application that goes away: ``ConnectionLost``) propagate after the lines already
    written; they stay in the file. Returns the last progress (None if nothing came).
    """
    start = clock()
    progress: Progress | None = None
    for snap in snapshots:
        writer.write(snap)
        elapsed = clock() - start
        progress = Progress(writer.count, writer.bytes, elapsed, snap)
        if on_snapshot is not None:
            on_snapshot(progress)
        # Half an interval of slack: a push a little late must not cost the last snapshot.
        if duration is not None and elapsed + interval > duration + interval / 2:
            break
    return progress


# -- replaying -----------------------------------------------------------------------------


def replay_schedule(snapshots: Sequence[Snapshot], *, interval: float | None = None,
                    speed: float = 1.0) -> list[float]:
    """Seconds from the start of a replay at which each snapshot is due (the first: 0).

    The one pacing rule of every replay (``top --replay``, ``view RECORDING``): frames keep
    the recorded pace, from the snapshots' timestamps. ``interval`` rescales that pace so
    that the recording's typical interval (the median gap) lasts ``interval`` seconds;
    ``speed`` then divides it (2.0 plays twice as fast). Irregular gaps stay irregular, but
    a gap is never longer than :data:`MAX_GAP_FACTOR` typical intervals - a recording paused
    for an hour replays its pause as a short one - and never negative (a clock stepped back).
    """
    if not snapshots:
        return []
    gaps = [max(0.0, b.timestamp - a.timestamp) for a, b in itertools.pairwise(snapshots)]
    positive = [g for g in gaps if g > 0]
    typical = statistics.median(positive) if positive else 0.0
    if interval is not None:
        if typical <= 0:  # all at one instant (or one frame): just pace them evenly
            gaps, typical = [interval] * len(gaps), interval
        else:
            gaps = [g * interval / typical for g in gaps]
            typical = interval
    cap = typical * MAX_GAP_FACTOR
    return list(itertools.accumulate((min(g, cap) / max(speed, 1e-6) for g in gaps),
                                     initial=0.0))


def replay_delays(snapshots: Sequence[Snapshot], interval: float | None = None) -> list[float]:
    """Seconds to wait before showing each snapshot of a replay (the first: 0): the gaps
    of :func:`replay_schedule`."""
    due = replay_schedule(snapshots, interval=interval)
    return [0.0, *(b - a for a, b in itertools.pairwise(due))] if due else []


class Playback:
    """Which frame of a recording is due, ``elapsed`` seconds into its replay, by the one
    pacing rule (:func:`replay_schedule`). Immutable; the caller keeps the clock."""

    def __init__(self, snapshots: Sequence[Snapshot], *, interval: float | None = None,
                 speed: float = 1.0) -> None:
        self._due = tuple(replay_schedule(snapshots, interval=interval, speed=speed))

    @property
    def due_at(self) -> tuple[float, ...]:
        """Seconds into the replay at which each frame is due (the first: 0)."""
        return self._due

    def frames_due(self, elapsed: float) -> int:
        """How many frames are due ``elapsed`` seconds in: at least the first, at most all."""
        return max(1, bisect.bisect_right(self._due, elapsed)) if self._due else 0
