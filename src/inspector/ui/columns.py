"""A table column: its header, and how a cell's raw value is shown and sorted.

Cells hold raw values (bytes as ints, ages as seconds) so the proxies sort numbers as
numbers; ``Column.display`` turns one into the text a cell shows, through the shared units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from PySide6.QtCore import Qt

from inspector.metrics.units import format_age, format_bytes

#: The role the proxies sort by: raw numbers, so "10 KiB" sorts above "9 MiB" correctly.
SORT_ROLE = Qt.ItemDataRole.UserRole

ColumnKind = Literal["text", "int", "bytes", "age", "ms", "seconds", "bool"]
#: Kinds shown right-aligned and sorted as numbers (a missing value sorts first).
NUMERIC: frozenset[str] = frozenset({"int", "bytes", "age", "ms", "seconds"})


@dataclass(frozen=True)
class Column:
    """A table column: its header and how its raw value is shown."""

    title: str
    kind: ColumnKind = "text"

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (right-aligned, sorted by value)."""
        return self.kind in NUMERIC

    def display(self, value: Any) -> str:
        """The cell text of ``value`` (``""`` for a missing one)."""
        if value is None:
            return ""
        kind = self.kind
        if kind == "bytes":
            return format_bytes(value)
        if kind == "age":
            return format_age(value)
        if kind in ("ms", "seconds"):
            return f"{value:.1f}"
        if kind == "bool":
            return "yes" if value else "no"
        return str(value)

    def sort_key(self, value: Any) -> Any:
        """What the proxies sort ``value`` by: itself, or a missing value's stand-in."""
        if value is None:
            return -1 if self.numeric else ""
        return value
