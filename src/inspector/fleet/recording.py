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

import itertools
import os
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
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


def read_recording(path: str | os.PathLike[str]) -> list[Snapshot]:
    """Every snapshot of a recording (or of a single snapshot file), in order.

    A last line that is incomplete - no newline at its end and not a whole snapshot, what a
    killed recorder leaves - is dropped. Anything else that is not a resinspect snapshot is
    ``BadInput`` naming ``file:line``; so is an unreadable file or one without any snapshot.
    """
    return load_recording(path).snapshots


def load_recording(path: str | os.PathLike[str]) -> Recording:
    """:func:`read_recording` that also says whether a cut-short last line was dropped."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadInput(f"cannot read {path}: {err.strerror or err}") from None
    if not data.strip():
        raise BadInput(f"{path}: empty file, no snapshot in it")
    single = _single_document(data, path)
    if single is not None:
        return Recording(path, [single])
    snapshots: list[Snapshot] = []
    truncated = False
    lines = data.split(b"\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        lineno = index + 1
        try:
            snap = Snapshot.from_json(line)
        except msgspec.ValidationError as err:  # whole JSON, but not a snapshot: never a cut
            raise BadInput(f"{path}:{lineno}: not a resinspect snapshot: {err}") from None
        except msgspec.DecodeError as err:
            # Only the very last line can be a write the recorder did not finish: it has no
            # newline after it (``split`` leaves it as the final element).
            if index == len(lines) - 1:
                truncated = True
                break
            raise BadInput(f"{path}:{lineno}: not a resinspect snapshot: {err}") from None
        snapshots.append(_checked(snap, f"{path}:{lineno}"))
    if not snapshots:
        raise BadInput(f"{path}: no complete snapshot in it")
    return Recording(path, snapshots, truncated)


def _single_document(data: bytes, path: Path) -> Snapshot | None:
    """The one snapshot of a snapshot file, or None when ``data`` is not a single document."""
    try:
        snap = Snapshot.from_json(data)
    except msgspec.ValidationError as err:
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError:
            return None  # not one JSON document: a recording whose first line is wrong
        raise BadInput(f"{path}: not a resinspect snapshot: {err}") from None
    except msgspec.DecodeError:
        # Several lines (a recording), or a broken document: the line-by-line reading
        # names the line that is wrong.
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


def replay_delays(snapshots: Sequence[Snapshot], interval: float | None = None) -> list[float]:
    """Seconds to wait before showing each snapshot of a replay (the first: 0).

    Frames keep the recorded pace, from the snapshots' timestamps. ``interval`` rescales
    that pace so that the recording's typical interval (the median gap) lasts ``interval``
    seconds: irregular gaps stay irregular, only faster or slower. A gap is never longer
    than :data:`MAX_GAP_FACTOR` typical intervals, and never negative (a clock stepped back).
    """
    if not snapshots:
        return []
    gaps = [max(0.0, b.timestamp - a.timestamp) for a, b in itertools.pairwise(snapshots)]
    positive = [g for g in gaps if g > 0]
    typical = statistics.median(positive) if positive else 0.0
    if interval is not None:
        if typical <= 0:  # all at one instant (or one frame): just pace them evenly
            return [0.0] + [interval] * len(gaps)
        scale = interval / typical
        gaps = [g * scale for g in gaps]
        typical = interval
    cap = typical * MAX_GAP_FACTOR
    return [0.0] + [min(g, cap) for g in gaps]
