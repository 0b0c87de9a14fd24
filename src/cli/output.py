"""Writing command output: stdout, or a file replaced in one step."""

from __future__ import annotations

import os
from pathlib import Path

import click

from inspector.errors import BadInput


def write_output(data: bytes, path: Path | None) -> None:
    """Write ``data`` to ``path``, or to stdout when ``path`` is None or ``-``."""
    if path is None or str(path) == "-":
        click.echo(data, nl=False)
    else:
        write_atomic(path, data)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old file or the new one, never half.

    The data goes to a temporary file in the same directory (a rename is atomic only within
    one file system), which is then renamed over ``path``. Any failure is ``BadInput`` with
    one line saying why, and leaves no temporary file behind.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # 0o666 and O_EXCL: the file gets the umask's usual permissions, as `>` would give,
        # and an existing file (or symlink) at the temporary name is never written through.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as err:
        raise BadInput(f"cannot write {path}: {err.strerror or err}") from None
