"""``resinspect snapshot``: one snapshot of a live application, as JSON, CSV or Prometheus."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from cli.options import target_options
from inspector.fleet.snapshot_file import FORMATS, encode_snapshot, save_snapshot


@click.command()
@target_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True,
              help="json: the snapshot; csv: one row per type and component; "
                   "prom: Prometheus text format.")
# Checked when written, not when parsed: a bad output path is an error (status 1) like any
# other failure to write, whatever the reason.
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file (replaced in one step, readable by you only) "
                   "instead of stdout.")
@click.option("--objects", is_flag=True,
              help="Also count the application's Python objects by type (JSON; costs it a "
                   "pass over its heap, off the GUI thread).")
def snapshot(pid: int | None, socket: Path | None, fmt: str, output: Path | None,
             objects: bool) -> None:
    """Print one snapshot of an application."""
    from cli import reader

    with closing(reader.readers().open(pid, socket)) as source:
        with_objects = getattr(source, "snapshot_with_objects", None)
        snap = (with_objects() if objects and with_objects is not None
                else source.get_current_snapshot())
    if output is None or str(output) == "-":
        click.echo(encode_snapshot(snap, fmt), nl=False)
    else:
        save_snapshot(snap, output, fmt)
