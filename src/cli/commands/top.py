"""``resinspect top``: a live view of one application, redrawn in place at every push."""

from __future__ import annotations

from contextlib import closing, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.options import target_options

if TYPE_CHECKING:
    from rich.console import Console

    from cli.reader import SnapshotReader


@click.command()
@target_options
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between updates.")
@click.option("--once", is_flag=True,
              help="Print one frame and exit (the default when stdout is not a terminal).")
def top(pid: int | None, socket: Path | None, interval: float, once: bool) -> None:
    """Live view of an application's resources. Ctrl-C leaves."""
    from cli import reader
    from cli.console import make_console
    from cli.render import plain_width, render_top

    console = make_console()
    with closing(reader.open_reader(pid, socket)) as source:
        if once or not console.is_terminal:
            snap = source.get_current_snapshot()
            if not console.is_terminal:
                # A pipe has no width of its own: make room for the longest id on one line.
                console.width = max(console.width, plain_width(snap))
            console.print(render_top(snap))
            return
        # Ctrl-C is how one leaves top: a clean exit (status 0), not an interruption.
        with suppress(KeyboardInterrupt):
            _live(console, source, interval)


def _live(console: Console, source: SnapshotReader, interval: float) -> None:
    from rich.live import Live

    from cli.render import render_top

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
