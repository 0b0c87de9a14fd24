"""The parts every view is built from: untrusted names made safe, and a table that never
cuts its key column.

Names come from the application (or from a recording someone sent): every one is shown
through :func:`name`, which escapes control and bidi characters (``inspector.metrics.text``)
and cuts a name longer than :data:`MAX_NAME` characters - on display only, JSON keeps it whole.

The one layout rule that matters: a component id (or a socket path) is never cut and never
broken across lines when the width allows it. Tables are therefore :class:`KeyedTable`s,
which measure their rows at render time and, if the id column would have to shrink, show
each row as the id on a line of its own followed by the other fields - rather than let rich
fold or ellipsise the id.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from inspector.metrics.text import clip, safe

if TYPE_CHECKING:
    from rich.console import JustifyMethod

#: Table layout: one space of padding each side of a column, a one-cell separator.
_CELL_OVERHEAD = 3

#: Longest name shown whole. Real ids are far shorter; a 10,000-character one padded every
#: line of ``top --once`` to 10,000 columns.
MAX_NAME = 200


# -- formatting ----------------------------------------------------------------------------


def name(text: object, width: int = MAX_NAME) -> str:
    """An untrusted name as text output shows it: escaped (``\\x1b``) and cut to ``width``."""
    return clip(safe(text), width)


def clock(timestamp: float, fmt: str = "%H:%M:%S") -> str:
    """A recorded time as local time; one no clock can show (``1e308`` or ``nan`` from a
    hostile file) as the number it is, rather than an OverflowError."""
    try:
        if not math.isfinite(timestamp):
            raise ValueError(timestamp)
        return time.strftime(fmt, time.localtime(timestamp))
    except (OverflowError, OSError, ValueError):
        return f"t={timestamp:g}"


def one_line(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` cells with an ellipsis."""
    return clip(" ".join(text.split()), width)


def natural_key(text: str) -> tuple[Any, ...]:
    """``Tab#2`` before ``Tab#10``: digit runs compare as numbers."""
    return tuple(int(part) if part.isdigit() else part.lower()
                 for part in re.split(r"(\d+)", text))


def safe_text(cell: Text) -> Text:
    """``cell`` with its text shown through :func:`name`; unchanged (spans kept) if clean."""
    shown = name(cell.plain)
    if shown == cell.plain:
        return cell
    return Text(shown, style=cell.style, justify=cell.justify, overflow=cell.overflow,
                no_wrap=cell.no_wrap)


# -- a table that never breaks its key column ------------------------------------------------


@dataclass(frozen=True)
class Col:
    """A column of a :class:`KeyedTable`. Only ``wrap`` columns (free text) may wrap."""

    header: str
    justify: JustifyMethod = "left"
    wrap: bool = False
    style: str = ""


Cell = str | Text


class KeyedTable:
    """A titled table whose ``key`` column (an id) is never cut or folded while it fits.

    If the console is too narrow for the table with the key whole, every row is drawn as
    the key on its own line and the other fields, labelled, on the next. A key longer than
    the whole console is folded onto several lines, never cut.
    """

    #: Space a wrapping column is assumed to need when deciding whether the table fits.
    WRAP_BUDGET = 12

    def __init__(
        self,
        title: str,
        columns: Sequence[Col],
        rows: Iterable[Sequence[Cell]],
        *,
        key: int = 0,
        empty: str = "",
        footer: str = "",
    ) -> None:
        self.title = title
        self.columns = list(columns)
        # Every cell through the one sanitiser: callers pass names as they came.
        self.rows = [[safe_text(c) if isinstance(c, Text) else Text(name(c)) for c in row]
                     for row in rows]
        self.key = key
        self.empty = empty
        self.footer = footer

    def required_width(self) -> int:
        """Columns the table needs to show every key whole on one line."""
        total = 0
        for index, col in enumerate(self.columns):
            widest = max([cell_len(col.header), *(row[index].cell_len for row in self.rows)])
            total += min(widest, self.WRAP_BUDGET) if col.wrap else widest
        return total + _CELL_OVERHEAD * len(self.columns)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.rows:
            yield Text(self.title, style="bold")
            if self.empty:
                yield Text("  " + self.empty, style="dim")
            return
        if self.required_width() <= options.max_width:
            yield self._table()
        else:
            yield from self._stacked()
        if self.footer:
            yield Text(self.footer, style="dim")

    def _table(self) -> Table:
        table = Table(
            title=self.title,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            header_style="bold",
        )
        for index, col in enumerate(self.columns):
            if index == self.key:
                # Fold rather than ellipsis should the width change under us: never cut.
                table.add_column(col.header, justify=col.justify, style=col.style or None,
                                 no_wrap=True, overflow="fold")
            else:
                table.add_column(col.header, justify=col.justify, style=col.style or None,
                                 no_wrap=not col.wrap, overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        return table

    def _stacked(self) -> Iterable[RenderableType]:
        yield Text(self.title, style="bold")
        for row in self.rows:
            key = row[self.key].copy()
            key.stylize("bold")
            key.overflow = "fold"
            key.no_wrap = False
            yield key
            fields = Text(overflow="fold")
            for index, (col, cell) in enumerate(zip(self.columns, row, strict=True)):
                if index == self.key or not cell.plain:
                    continue
                if fields.plain:
                    fields.append("  ")
                fields.append(f"{col.header.lower()} ", style="dim")
                fields.append_text(cell)
            # Padding, not leading spaces: a wrapped line stays under its row.
            yield Padding(fields, (0, 0, 0, 4))
