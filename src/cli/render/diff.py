"""The report of ``resinspect diff``: a header naming both sides, then one table each for
totals, types, component classes, components, running workers, new suspects and budgets.

Rows list only what changed (``--json`` keeps everything); growth is red, since growth is
what the command hunts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from cli.render.table import Cell, Col, KeyedTable, clock, name, natural_key
from inspector.fleet.budgets import format_value
from inspector.metrics.units import format_bytes, format_duration

if TYPE_CHECKING:
    from inspector.fleet.budgets import BudgetResult
    from inspector.fleet.diff import Change, Side, SnapshotDiff


class DiffReport:
    """The whole report as one renderable, and the width that shows it unbroken."""

    def __init__(self, result: SnapshotDiff, budgets: list[BudgetResult]) -> None:
        self.header = _header(result)
        self.tables = [t for t in (_totals(result), _by_type(result), _groups(result),
                                   _components(result), _workers(result), _suspects(result),
                                   _budgets(budgets)) if t is not None]

    def required_width(self) -> int:
        """Columns for every id whole on its row (as ``top``) and each header line (file
        paths) unbroken: what a pipe, which has no width of its own, is widened to."""
        return max(*(t.required_width() for t in self.tables),
                   *(cell_len(line) for line in self.header.plain.splitlines()))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        parts: list[RenderableType] = [self.header]
        for table in self.tables:
            parts += [Text(""), table]
        yield Group(*parts)


def _header(result: SnapshotDiff) -> Text:
    def side(label: str, s: Side) -> Text:
        at = clock(s.timestamp, "%Y-%m-%d %H:%M:%S")
        return Text.assemble((f"{label}: ", "bold"), f"{name(s.source or '-', 4096)}  ",
                             (name(s.app), "cyan"), f" pid {s.pid} at {at} (seq {s.seq})")

    text = Text()
    text.append_text(side("A", result.before))
    text.append("\n")
    text.append_text(side("B", result.after))
    text.append(f"\nB is {result.elapsed_s:+.1f} s after A", style="dim")
    if not result.same_process:
        text.append("; different processes: components compare by id and by group",
                    style="dim")
    return text


def _delta(change: Change, *, is_bytes: bool) -> Text:
    d = change.delta
    shown = format_bytes(abs(d)) if is_bytes else str(abs(d))
    if d > 0:
        return Text("+" + shown, style="red")  # growth is what this command hunts
    if d < 0:
        return Text("-" + shown, style="green")
    return Text(shown, style="dim")


def _value(n: int, *, is_bytes: bool) -> str:
    return format_bytes(n) if is_bytes else str(n)


_TOTAL_NAMES = {
    "live_resources": ("Live resources", False),
    "tracked_bytes": ("Tracked bytes", True),
    "created_total": ("Created", False),
    "destroyed_total": ("Destroyed", False),
    "rss_bytes": ("RSS", True),
    "active_workers": ("Active workers", False),
    "cache_bytes": ("Cache bytes", True),
    "cache_entries": ("Cache entries", False),
    "leak_suspects": ("Leak suspects", False),
}


def _totals(result: SnapshotDiff) -> KeyedTable:
    rows: list[list[Cell]] = []
    for metric, change in result.totals.items():
        label, is_bytes = _TOTAL_NAMES.get(metric, (metric, False))
        rows.append([label, _value(change.before, is_bytes=is_bytes),
                     _value(change.after, is_bytes=is_bytes), _delta(change, is_bytes=is_bytes)])
    return KeyedTable("Totals", [Col("Metric"), Col("A", "right"), Col("B", "right"),
                                 Col("Change", "right")], rows)


def _live_bytes_cols() -> list[Col]:
    return [Col("Live A", "right"), Col("Live B", "right"), Col("Change", "right"),
            Col("Bytes A", "right"), Col("Bytes B", "right"), Col("Change", "right")]


def _live_bytes_cells(live: Change, size: Change) -> list[Cell]:
    return [str(live.before), str(live.after), _delta(live, is_bytes=False),
            _value(size.before, is_bytes=True), _value(size.after, is_bytes=True),
            _delta(size, is_bytes=True)]


def _unchanged_footer(hidden: int, what: str) -> str:
    return f"{hidden} unchanged {what} not shown (--json has them all)" if hidden else ""


def _by_type(result: SnapshotDiff) -> KeyedTable:
    changed = [t for t in result.by_type if t.live.delta or t.bytes.delta]
    return KeyedTable(
        "Resources by type", [Col("Type"), *_live_bytes_cols()],
        [[t.type, *_live_bytes_cells(t.live, t.bytes)] for t in changed],
        empty="no change", footer=_unchanged_footer(len(result.by_type) - len(changed), "types"))


def _components(result: SnapshotDiff) -> KeyedTable:
    def state(alive: bool | None) -> Text:
        if alive is None:
            return Text("absent", style="dim")
        return Text("alive", style="green") if alive else Text("gone", style="red")

    changed = sorted((c for c in result.components if c.live.delta or c.bytes.delta),
                     key=lambda c: (-c.bytes.delta, -c.live.delta, natural_key(c.id)))
    shown = changed[:INSTANCE_ROWS]
    footers = [_unchanged_footer(len(result.components) - len(changed), "components")]
    if len(shown) < len(changed):
        footers.append(f"{len(changed) - len(shown)} smaller changes not shown "
                       "(--json has them all)")
    return KeyedTable(
        f"Components (matched by id), largest growth first: {len(shown)} of {len(changed)}",
        [Col("Component"), Col("Type"), *_live_bytes_cols(), Col("In B")],
        [[c.id, c.type, *_live_bytes_cells(c.live, c.bytes), state(c.alive_after)]
         for c in shown],
        empty="no change", footer="; ".join(f for f in footers if f))


#: Instances listed one by one under the classes table; the rest are counted.
INSTANCE_ROWS = 15


def _groups(result: SnapshotDiff) -> KeyedTable | None:
    # One row per class (id without #n) with how many instances, largest growth first: 30
    # leaked tabs read as one line that says 30, not 30 lines.
    changed = sorted((g for g in result.groups
                      if g.live.delta or g.bytes.delta or g.components.delta),
                     key=lambda g: (-g.bytes.delta, -g.live.delta, -g.components.delta,
                                    g.group))
    if not changed:
        return None
    return KeyedTable(
        "Component classes (ids without #n), largest growth first",
        [Col("Class"), Col("Count", "right"), *_live_bytes_cols()],
        [[g.group, f"{g.components.before} → {g.components.after}",
          *_live_bytes_cells(g.live, g.bytes)] for g in changed])


def _workers(result: SnapshotDiff) -> KeyedTable:
    changed = [w for w in result.workers_by_component if w.running.delta]
    return KeyedTable(
        "Running workers by component",
        [Col("Component"), Col("A", "right"), Col("B", "right"), Col("Change", "right")],
        [[w.component_id, str(w.running.before), str(w.running.after),
          _delta(w.running, is_bytes=False)] for w in changed],
        empty="no change")


def _suspects(result: SnapshotDiff) -> KeyedTable:
    rows: list[list[Cell]] = [
        [s.component_id, s.resource_type, s.resource_id or "-", s.reason,
         format_duration(s.age_s), s.detail]
        for s in result.new_suspects]
    return KeyedTable(
        f"New leak suspects in B ({len(rows)})",
        [Col("Component"), Col("Type"), Col("Resource"), Col("Reason", style="yellow"),
         Col("Age", "right"), Col("Detail", wrap=True)],
        rows, empty="none")


def _budgets(budgets: list[BudgetResult]) -> KeyedTable | None:
    if not budgets:
        return None
    rows: list[list[Cell]] = []
    for r in budgets:
        note = {"nothing": "matches nothing in A or B", "group": "summed over the group"
                }.get(r.matched, "")
        rows.append([r.rule, format_value(r),
                     Text("EXCEEDED", style="bold red") if r.broken else Text("ok", "green"),
                     note])
    return KeyedTable("Budgets (value: in B, or +growth from A to B)",
                      [Col("Rule"), Col("Value", "right"), Col("Result"),
                                  Col("Note", wrap=True)], rows)
