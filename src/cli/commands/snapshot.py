"""``resinspect snapshot``: one snapshot of a live application, as JSON, CSV or Prometheus."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.options import target_options

if TYPE_CHECKING:
    from inspector.metrics.snapshot import Snapshot

FORMATS = ("json", "csv", "prom")


@click.command()
@target_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True,
              help="json: the snapshot; csv: one row per type and component; "
                   "prom: Prometheus text format.")
# Checked when written, not when parsed: a bad output path is an error (status 1) like any
# other failure to write, whatever the reason.
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file (replaced in one step) instead of stdout.")
@click.option("--objects", is_flag=True,
              help="Also count the application's Python objects by type (JSON; costs it a "
                   "pass over its heap, off the GUI thread).")
def snapshot(pid: int | None, socket: Path | None, fmt: str, output: Path | None,
             objects: bool) -> None:
    """Print one snapshot of an application."""
    from cli import reader
    from cli.output import write_output

    with closing(reader.readers().open(pid, socket)) as source:
        with_objects = getattr(source, "snapshot_with_objects", None)
        snap = (with_objects() if objects and with_objects is not None
                else source.get_current_snapshot())
    write_output(encode(snap, fmt), output)


def encode(snap: Snapshot, fmt: str) -> bytes:
    """``snap`` in ``fmt`` (one of :data:`FORMATS`), newline-terminated."""
    if fmt == "json":
        return snap.to_json() + b"\n"
    # Exporters load only for their format: prometheus text may pull in more imports.
    from inspector.metrics.exporters import snapshot_to_csv, snapshot_to_prometheus

    text = snapshot_to_csv(snap) if fmt == "csv" else snapshot_to_prometheus(snap)
    return (text if text.endswith("\n") else text + "\n").encode()
