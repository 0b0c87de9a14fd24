"""``resinspect dump``: every thread's Python stack, each thread named, the GUI thread first."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from cli.options import target_options
from cli.reader import connect
from inspector.errors import NotAnswering
from inspector.metrics.hangs import StallReport


@click.command()
@target_options
@click.option("--json", "as_json", is_flag=True,
              help="The protocol's reply: {main_thread, gui_thread, threads: [{id, native_id, "
                   "name, kind, gui, main, daemon, qthread, component, resource_id, stack}]}.")
def dump(pid: int | None, socket: Path | None, as_json: bool) -> None:
    """Every thread's Python stack, innermost last, the GUI thread first.

    Threads are named after their QThread's objectName (or class) or their threading name,
    with the component that owns a tracked worker. Read inside the application: no ptrace,
    no root. An application whose GUI thread holds the GIL in native code cannot answer:
    the stacks its stall watchdog wrote are shown instead, and the verdict is the error.
    """
    from cli.console import make_console

    try:
        with closing(connect(pid, socket)) as client:
            reply = client.stacks()
    except NotAnswering as exc:
        if isinstance(exc.report, StallReport) and not as_json:
            from cli.render.freezes import render_not_answering

            make_console().print(render_not_answering(exc.report, str(exc)))
        raise
    if as_json:
        import msgspec

        click.echo(msgspec.json.format(msgspec.json.encode(reply), indent=2))
        return
    from cli.render.freezes import render_dump

    console = make_console()
    if not console.is_terminal:
        console.width = max(console.width, 160)
    console.print(render_dump(reply))
