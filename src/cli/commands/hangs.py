"""``resinspect hangs``: the GUI thread's recorded stalls, and where their time went."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from cli.options import target_options
from cli.reader import connect


@click.command()
@target_options
@click.option("--json", "as_json", is_flag=True,
              help="The protocol's reply: {hangs: [{started, duration_ms, stack, where, "
                   "samples, native}], count, total_ms, max_ms, threshold_ms, by_function, "
                   "stalled_ms}; count and totals cover the whole run.")
def hangs(pid: int | None, socket: Path | None, as_json: bool) -> None:
    """Stalls of an application's GUI thread since it started, and where their time went.

    Every stall longer than the application's hang threshold (200 ms unless set with
    attach(hang_threshold_ms=...)) is listed with its start, duration and the functions its
    time went to (sampled every 10 ms during the stall); the newest 100 are kept.
    """
    with closing(connect(pid, socket)) as client:
        reply = client.hangs()
        app, app_pid = str(client.hello_info.get("app", "")), int(client.hello_info.get("pid", 0))
    if as_json:
        import msgspec

        click.echo(msgspec.json.format(msgspec.json.encode(reply), indent=2))
        return
    from cli.console import make_console
    from cli.render.freezes import render_hangs

    console = make_console()
    if not console.is_terminal:  # a pipe: every frame whole on its line
        console.width = max(console.width, 160)
    console.print(render_hangs(reply, app, app_pid))
