"""``resinspect record``: snapshots of a live application over time, one JSON object a line.

Each snapshot is written as one line with one unbuffered write as it arrives, so the file is
always a valid recording up to its last line: a recorder that is killed loses at most the
line it was writing, and ``read_recording`` (``top --replay``, ``view``, ``diff``) drops a
cut-short last line. Ctrl-C (or SIGTERM) ends a recording cleanly, status 0; so does
``--duration``. An application that goes away mid-recording is one line and status 1, and
everything recorded until then stays in the file.
"""

from __future__ import annotations

import shutil
import sys
from contextlib import closing
from pathlib import Path

import click

from cli.console import is_terminal
from cli.options import Seconds, target_options
from cli.reader import readers
from inspector.errors import ConnectionLost
from inspector.fleet.recording import Progress, RecordingWriter
from inspector.fleet.recording import record as record_snapshots
from inspector.fleet.signals import sigterm_as_interrupt
from inspector.metrics.units import format_bytes, format_duration


@click.command()
@target_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The recording to write (replaced if it exists); '-' for stdout.")
@click.option("--interval", type=Seconds(min=0.05), default=1.0, show_default=True,
              help="Seconds between snapshots.")
@click.option("--duration", type=Seconds(min=0, max=366 * 86_400.0, min_open=True), default=None,
              help="Stop after this many seconds (default: record until Ctrl-C).")
@click.option("--fsync", is_flag=True,
              help="Flush every line to disk: survives a power failure, not only a killed "
                   "recorder (slower).")
def record(pid: int | None, socket: Path | None, output: Path, interval: float,
           duration: float | None, fsync: bool) -> None:
    """Record snapshots of an application over time, one JSON object a line.

    Replay with `resinspect top --replay FILE`, compare with `resinspect diff FILE`.
    """
    # A progress line is for a person watching; in a pipe or a log it would only be noise.
    status = _StatusLine(output, duration) if is_terminal(sys.stderr) else None
    # Connect before creating the file: a wrong --pid must not leave an empty recording.
    with sigterm_as_interrupt(), closing(readers().open(pid, socket)) as source, \
            RecordingWriter(output, fsync=fsync) as writer:
        try:
            record_snapshots(source.iter_snapshots(interval), writer, interval=interval,
                             duration=duration, on_snapshot=status.update if status else None)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a recording without --duration ends: a clean stop
        except ConnectionLost as err:
            raise ConnectionLost(f"{err}; recording stopped after {_count(writer.count)}, "
                                 f"kept in {output}") from None
        finally:
            if status is not None:
                status.finish(writer.count, writer.bytes)


def _count(n: int) -> str:
    return f"{n} snapshot{'' if n == 1 else 's'}"


class _StatusLine:
    """One line on a terminal's stderr, redrawn in place after every snapshot."""

    def __init__(self, output: Path, duration: float | None) -> None:
        self.output = output
        self.duration = duration

    def update(self, progress: Progress) -> None:
        from cli.render.table import name  # rich: only a terminal shows this line

        snap = progress.last
        limit = f" of {format_duration(self.duration)}" if self.duration is not None else ""
        stop = "" if self.duration is not None else "; Ctrl-C stops"
        self._show(f"recording {name(snap.app)} (pid {snap.pid}) to {name(self.output)}: "
                   f"{_count(progress.snapshots)}, {format_bytes(progress.bytes)}, "
                   f"{format_duration(progress.elapsed_s)}{limit}{stop}")

    def finish(self, count: int, size: int) -> None:
        from cli.render.table import name

        self._show(f"recorded {_count(count)} ({format_bytes(size)}) to {name(self.output)}")
        click.echo(err=True)

    def _show(self, text: str) -> None:
        # Carriage return and erase-line redraw one line: a line that wrapped would leave
        # its first part behind at every redraw, so it is cut to the terminal's width.
        width = shutil.get_terminal_size().columns - 1
        if len(text) > width > 20:
            text = text[:width - 1] + "…"
        click.echo(f"\r\x1b[K{text}", nl=False, err=True)
