"""``resinspect ls``: the live applications, each socket path whole (it is what one copies
into ``--socket``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cli.render.table import Cell, Col, KeyedTable, name
from inspector.metrics.units import format_duration

if TYPE_CHECKING:
    from cli.reader import AppDescription


def render_ls(apps: Sequence[AppDescription], *, now: float | None = None) -> KeyedTable:
    """The table of ``resinspect ls``: pid, app, uptime and socket of each live application."""
    now = time.time() if now is None else now
    rows: list[list[Cell]] = [
        [str(a.pid), name(a.app) if a.app else "?",
         format_duration(now - a.started_at) if a.started_at > 0 else "?", str(a.socket)]
        for a in sorted(apps, key=lambda a: a.pid)
    ]
    return KeyedTable(
        "Live applications",
        [Col("PID", "right"), Col("App"), Col("Uptime", "right"), Col("Socket")],
        rows,
        key=3,  # the socket path is what one copies into --socket: keep it whole
        empty="none",
    )
