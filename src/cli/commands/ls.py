"""``resinspect ls``: the live applications, read from their sidecars, no conversation needed.

An application is live when its socket accepts a connection (closed at once, nothing said):
a dead process, a zombie or a reused pid is never listed (inspector.server.discovery).
"""

from __future__ import annotations

import click


@click.command()
@click.option("--json", "as_json", is_flag=True,
              help="A JSON list of objects: pid, app, socket, started_at, uptime_s (null when "
                   "unknown), versions, protocol.")
def ls(as_json: bool) -> None:
    """List the live applications that can be inspected."""
    import time

    from cli import reader

    apps = sorted(reader.readers().list_apps(), key=lambda a: a.pid)
    now = time.time()
    if as_json:
        import json

        click.echo(json.dumps([
            {
                "pid": a.pid,
                "app": a.app,
                "socket": str(a.socket),
                "started_at": a.started_at,
                # A sidecar without a start time gives 0: say "unknown", not 55 years.
                "uptime_s": round(max(0.0, now - a.started_at), 3) if a.started_at > 0
                else None,
                "versions": dict(a.versions),
                "protocol": a.protocol,
            }
            for a in apps
        ], indent=2))
        return
    if not apps:
        click.echo("No live applications. Call inspector.attach() in one to inspect it.")
        return
    from cli.console import make_console
    from cli.render.ls import render_ls

    console = make_console()
    table = render_ls(apps, now=now)
    if not console.is_terminal:  # a pipe has no width: one line per application
        console.width = max(console.width, table.required_width())
    console.print(table)
