"""``resinspect why``: the chain of references that keeps a resource alive, root first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.render.table import Cell, Col, KeyedTable
from inspector.metrics.text import safe

if TYPE_CHECKING:
    from inspector.metrics.snapshot import WhyResult


def render_why(result: WhyResult) -> KeyedTable:
    """The table of ``resinspect why``: the chain from a root to the resource, root first.

    Names and sites come from the application: shown escaped (by KeyedTable, and here for
    the title).
    """
    title = f"Why {safe(result.resource_id)} is alive (root first)"
    if not result.complete:
        title += ": no root reached within the time budget, the longest chain found"
    rows: list[list[Cell]] = [
        [str(n), link.kind, link.name, link.site or "-"]  # KeyedTable escapes every cell
        for n, link in enumerate(result.chain, start=1)]
    return KeyedTable(title, [Col("#", "right"), Col("Held by"), Col("Name"),
                              Col("Site")], rows, key=2, empty="no chain")
