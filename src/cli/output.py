"""Writing command output: stdout, or a file through the one writer of output files.

``inspector.fleet.output`` decides how a path is written (atomic rename for a regular
file, written through for a device or FIFO, refused otherwise); ``snapshot -o``, ``record
-o`` and the dock's export all go through it.
"""

from __future__ import annotations

from pathlib import Path

import click


def write_output(data: bytes, path: Path | None) -> None:
    """Write ``data`` to ``path``, or to stdout when ``path`` is None or ``-``."""
    if path is None or str(path) == "-":
        click.echo(data, nl=False)
    else:
        write_atomic(path, data)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``: replaced in one step if it is a regular file, written
    through if it is a device or FIFO, ``BadInput`` (one line) for anything else."""
    from inspector.fleet.output import write_file

    write_file(path, data)
