"""``resinspect top``: a live view of one application, redrawn in place at every push.

In a terminal it is interactive (``cli.tui``: keys to sort, scroll, select a component and
list its resources, see the suspects' full details). Piped, or with ``--once``, it prints
one frame of plain text at most :data:`PIPE_WIDTH` columns wide.

``--replay FILE`` shows a recording (``resinspect record``) the same way, frame by frame at
the recorded pace, with the lifecycle markers each snapshot carries.
"""

from __future__ import annotations

import sys
import time
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.live import Live

from cli import tui
from cli.options import Seconds, target_options
from cli.reader import readers
from cli.render.freezes import render_not_answering
from cli.render.replay import replay_frame, replay_width
from cli.render.top import plain_width, render_top
from inspector.errors import ConnectionLost, NotAnswering
from inspector.fleet.recording import Playback, first_and_last, load_recording
from inspector.metrics.hangs import StallReport

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console

    from cli.reader import SnapshotReader
    from inspector.metrics.snapshot import ResourcePage

#: A piped frame is at most this wide (wider only for an id longer than that, which is never
#: cut); a table whose ids would not fit stacks its rows.
PIPE_WIDTH = 100


@click.command()
@target_options
@click.option("--interval", type=Seconds(min=0.1), default=1.0, show_default=True,
              help="Seconds between updates.")
@click.option("--once", is_flag=True,
              help="Print one frame and exit (the default when stdout is not a terminal).")
@click.option("--replay", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE",
              help="Show a recording (`resinspect record`) as if live, with its lifecycle "
                   "markers, at the recorded pace; with --interval, one recorded interval "
                   "lasts that long. --once shows its last frame.")
@click.pass_context
def top(ctx: click.Context, pid: int | None, socket: Path | None, interval: float, once: bool,
        replay: Path | None) -> None:
    """Live view of an application's resources. Ctrl-C leaves."""
    from cli.console import make_console  # looked up at each run: tests hand in a terminal

    console = make_console()
    if replay is not None:
        if pid is not None or socket is not None:
            raise click.UsageError("--replay shows a file: it takes no --pid or --socket",
                                   ctx=ctx)
        # Only an --interval given on the command line rescales the recorded pace.
        given = ctx.get_parameter_source("interval") is click.core.ParameterSource.COMMANDLINE
        _replay(console, replay, interval if given else None, once)
        return
    with _not_answering_shown(console), closing(readers(ctx).open(pid, socket)) as source:
        if once or not console.is_terminal:
            snap = source.get_current_snapshot()
            if not console.is_terminal:
                # A pipe has no width of its own: room for the longest id on one line, up
                # to PIPE_WIDTH (beyond it, tables stack their rows rather than cut an id).
                console.width = min(PIPE_WIDTH, max(console.width, plain_width(snap)))
                # An id longer than that line still gets one line, whole (grep finds it).
                longest = max((len(c.id) for c in snap.components), default=0)
                console.width = max(console.width, longest)
            console.print(render_top(snap))
            return
        # Ctrl-C is how one leaves top: a clean exit (status 0), not an interruption.
        with suppress(KeyboardInterrupt):
            try:
                _live(console, source, interval)
            except ConnectionLost:
                gone = _exited(source)
                if gone is None:
                    raise
                # The application quit while we watched: the end of the show, not an error.
                console.print(gone)


def _exited(source: SnapshotReader) -> str | None:
    """What to say when the watched application exited cleanly, or None: still listening,
    or gone without a goodbye (killed or crashed), which stays an error."""
    pid = source.exited()
    if pid is None:
        return None
    return f"resinspect top: the application{f' (pid {pid})' if pid else ''} has exited"


@contextmanager
def _not_answering_shown(console: Console) -> Iterator[None]:
    """An application that cannot answer (native code holds the GIL) is shown as a frame of
    its own - the verdict and the stacks its stall watchdog wrote - before the one-line
    error that ends ``top``."""
    try:
        yield
    except NotAnswering as exc:
        if isinstance(exc.report, StallReport):
            console.print(render_not_answering(exc.report, str(exc)))
        raise


def _live(console: Console, source: SnapshotReader, interval: float) -> None:
    if sys.stdin.isatty():
        def fetch(component_id: str, offset: int, limit: int) -> ResourcePage:
            return source.resources(offset, limit, component_id)

        tui.run(console, source.get_current_snapshot(), source.iter_snapshots(interval),
                fetch)
        return
    _follow(console, source, interval)


def _follow(console: Console, source: SnapshotReader, interval: float) -> None:
    """Redraw in place at every push, without keys (stdin is not a terminal)."""
    def frame() -> int:
        # Components get what the terminal has left after the fixed parts of the frame.
        return max(5, console.height - 24)

    # A snapshot right away: the first push may come only after a whole interval.
    first = render_top(source.get_current_snapshot(), max_rows=frame())
    # No auto refresh: the application's pushes pace the redraws, a timer would only redraw
    # the same frame. If the application goes away, ConnectionLost leaves the last frame on
    # screen and main() prints the one line under it.
    with Live(first, console=console, screen=False, auto_refresh=False,
              redirect_stdout=False, redirect_stderr=False) as live:
        for snap in source.iter_snapshots(interval):
            live.update(render_top(snap, max_rows=frame()), refresh=True)


# -- replay ------------------------------------------------------------------------------------


def _replay(console: Console, path: Path, interval: float | None, once: bool) -> None:
    if once or not console.is_terminal:
        # Streamed: the last frame is shown, so only the first and last are held.
        first, last, count = first_and_last(path)
        if not console.is_terminal:  # as a live frame: every id and the path unbroken
            console.width = max(console.width, replay_width(path, first, last, count))
        console.print(replay_frame(path, [first, last], count - 1, count=count))
        return

    frames = load_recording(path).snapshots

    def rows() -> int:
        return max(5, console.height - 34)

    due = Playback(frames, interval=interval).due_at
    with suppress(KeyboardInterrupt), Live(
            replay_frame(path, frames, 0, max_rows=rows()), console=console, screen=False,
            auto_refresh=False, redirect_stdout=False, redirect_stderr=False) as live:
        live.refresh()
        for index in range(1, len(frames)):
            time.sleep(due[index] - due[index - 1])
            live.update(replay_frame(path, frames, index, max_rows=rows()), refresh=True)
