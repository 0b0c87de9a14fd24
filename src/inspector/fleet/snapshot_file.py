"""A snapshot as a file: its one encoding per format, and the one way to save it.

``resinspect snapshot`` and the dock's export both come here, so one snapshot saved from
either is the same bytes with the same permissions: newline-terminated, and readable by its
owner only (0600), because a snapshot holds stacks, file paths and names from the
application. How the path is written (atomic rename, a device written through, refusals) is
:mod:`inspector.fleet.output`'s job. Qt-free: the CLI imports it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .output import write_file

if TYPE_CHECKING:
    from inspector.metrics.snapshot import Snapshot

#: Every format a snapshot is encoded in.
FORMATS = ("json", "csv", "prom")
#: The format a file's suffix asks for; any other suffix gets JSON.
_BY_SUFFIX = {".csv": "csv", ".prom": "prom"}


def format_for(path: str | os.PathLike[str]) -> str:
    """The format ``path``'s suffix names: ``csv`` for ``.csv``, ``prom`` for ``.prom``,
    else ``json``."""
    return _BY_SUFFIX.get(Path(path).suffix.lower(), "json")


def check_format(fmt: str) -> str:
    """``fmt`` in lower case, if it is one of :data:`FORMATS`; else ``ValueError``."""
    lower = fmt.lower()
    if lower not in FORMATS:
        raise ValueError(f"unknown snapshot format {fmt!r} (json, csv or prom)")
    return lower


def encode_snapshot(snap: Snapshot, fmt: str) -> bytes:
    """``snap`` in ``fmt`` (one of :data:`FORMATS`, any case), newline-terminated.

    Raises ``ValueError`` naming any other format.
    """
    fmt = check_format(fmt)
    if fmt == "json":
        return snap.to_json() + b"\n"
    # Exporters load only for their formats: the JSON path stays as light as the CLI needs.
    from inspector.metrics.exporters import snapshot_to_csv, snapshot_to_prometheus

    text = snapshot_to_csv(snap) if fmt == "csv" else snapshot_to_prometheus(snap)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def save_snapshot(snap: Snapshot, path: str | os.PathLike[str], fmt: str | None = None
                  ) -> Path:
    """Write ``snap`` to ``path`` in ``fmt`` (by default :func:`format_for` the path).

    A regular file is replaced in one step and a new one is made readable by its owner
    only; a device or FIFO is written through. Raises ``ValueError`` for an unknown format
    (before touching the path) and ``BadInput`` when the path can't be written.
    """
    data = encode_snapshot(snap, fmt if fmt is not None else format_for(path))
    write_file(path, data, private=True)
    return Path(path)
