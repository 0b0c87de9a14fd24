"""``resinspect why``: the chain of references that keeps a resource alive."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import target_options
from cli.reader import connect
from inspector.errors import BadInput, RemoteError
from inspector.server.protocol import INVALID_PARAMS

#: The application walks its heap for up to 2 s; the answer then travels like any other.
WHY_TIMEOUT_S = 15.0


@click.command()
@click.argument("resource_id")
@target_options
@click.option("--json", "as_json", is_flag=True,
              help='The result as JSON: {"resource_id", "chain": [{"kind", "name", "site"?}, '
                   '... root first], "complete"}.')
def why(resource_id: str, pid: int | None, socket: Path | None, as_json: bool) -> None:
    """Show the chain of references, from a root, that keeps RESOURCE_ID alive."""
    with connect(pid, socket, timeout=WHY_TIMEOUT_S) as client:
        try:
            result = client.why(resource_id)
        except RemoteError as err:
            if err.code == INVALID_PARAMS:  # unknown or gone: say just that
                raise BadInput(err.message) from None
            raise
    if as_json:
        import msgspec

        click.echo(msgspec.json.encode(result).decode())
        return
    from cli.console import make_console
    from cli.render.why import render_why

    console = make_console()
    table = render_why(result)
    if not console.is_terminal:  # a pipe has no width: keep every name whole
        console.width = max(console.width, table.required_width())
    console.print(table)
