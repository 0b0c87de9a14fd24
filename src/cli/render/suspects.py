"""Leak suspects as ``top`` shows them: grouped by owner class, type, reason and site
(LeakCanary's fingerprint), one row a group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.table import Table

from cli.render.table import Cell, Col, KeyedTable, one_line
from inspector.metrics.text import clip, safe
from inspector.metrics.units import format_duration

if TYPE_CHECKING:
    from inspector.metrics.snapshot import Snapshot

#: Width of a suspect's one-line detail in a table (the full text is one key away in
#: ``top``, and whole in ``snapshot``'s JSON).
DETAIL_WIDTH = 36


@dataclass(frozen=True)
class SuspectGroup:
    """Leak suspects with the same owner class, type, reason and site: one row."""

    owner: str
    resource_type: str
    reason: str
    site: str
    count: int
    oldest_s: float
    example: str
    detail: str
    confirmed: bool = True

    @property
    def reason_text(self) -> str:
        """The reason, marked ``(pending)`` until a full collection has confirmed it."""
        return self.reason if self.confirmed else f"{self.reason} (pending)"


def owner_class(component_id: str) -> str:
    """``ResultsTab#3`` → ``ResultsTab``: the class part of a component id."""
    head, sep, tail = component_id.rpartition("#")
    return head if sep and tail.isdigit() and head else component_id


def group_suspects(snapshot: Snapshot) -> list[SuspectGroup]:
    """The snapshot's suspects grouped (LeakCanary's fingerprint), most members first."""
    groups: dict[tuple[str, str, str, str], list[Any]] = {}
    for x in snapshot.leak_suspects:
        key = (owner_class(x.component_id), x.resource_type, x.reason,
               str(getattr(x, "site", "") or ""))
        groups.setdefault(key, []).append(x)
    out = []
    for (owner, rtype, reason, site), members in groups.items():
        newest = min(members, key=lambda m: m.age_s)
        detail = next((m.detail for m in members if m.detail), "")
        out.append(SuspectGroup(
            owner=owner, resource_type=rtype, reason=reason, site=site,
            count=sum(int(getattr(m, "count", 1) or 1) for m in members),
            oldest_s=max(m.age_s for m in members),
            example=(" ".join(p for p in (getattr(newest, "name", ""), newest.resource_id) if p)
                     or newest.component_id),
            detail=detail,
            confirmed=all(getattr(m, "confirmed", True) for m in members)))
    out.sort(key=lambda g: (-g.count, -g.oldest_s, g.owner, g.reason))
    return out


def suspects_table(s: Snapshot) -> KeyedTable:
    """The grouped suspects as a table whose owner is never cut (``top --once``, a pipe)."""
    groups = group_suspects(s)
    columns = [Col("Owner"), Col("Type"), Col("Reason", style="yellow"), Col("Count", "right"),
               Col("Oldest", "right"), Col("Example")]
    with_site = any(g.site for g in groups)
    if with_site:
        columns.append(Col("Site"))
    with_detail = any(g.detail for g in groups)
    if with_detail:
        columns.append(Col("Detail"))
    rows: list[list[Cell]] = []
    for g in groups:
        row: list[Cell] = [g.owner, g.resource_type, g.reason_text, str(g.count),
                           format_duration(g.oldest_s), g.example]
        if with_site:
            row.append(g.site)
        if with_detail:
            row.append(one_line(g.detail, DETAIL_WIDTH))
        rows.append(row)
    total = sum(g.count for g in groups)
    return KeyedTable(f"Leak suspects ({total} in {len(groups)} groups)", columns, rows,
                      empty="no leak suspects")


def grouped_suspects_table(snapshot: Snapshot, width: int, *, full: bool,
                           max_rows: int | None) -> Table | None:
    """The grouped suspects for a terminal ``width`` wide: details cut to one line, or in
    full (wrapped) with ``full``; None when there are none."""
    groups = group_suspects(snapshot)
    if not groups:
        return None
    total = sum(g.count for g in groups)
    shown = groups if max_rows is None else groups[:max_rows]
    more = f", {len(groups) - len(shown)} more groups: d" if len(shown) < len(groups) else ""
    table = Table(title=f"Leak suspects ({total} in {len(groups)} groups{more})",
                  title_justify="left", title_style="bold", box=None, pad_edge=False,
                  show_edge=False, header_style="bold")
    for header in ("Owner", "Type", "Reason"):
        table.add_column(header, justify="left", no_wrap=True)
    for header in ("Count", "Oldest"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("Detail", no_wrap=not full, overflow="fold" if full else "ellipsis",
                     ratio=1)
    detail_width = max(10, width - 60)
    for g in shown:
        detail = safe(g.detail or g.site or g.example)
        table.add_row(clip(safe(g.owner), 24), safe(g.resource_type), safe(g.reason_text),
                      str(g.count), format_duration(g.oldest_s),
                      detail if full else one_line(detail, detail_width))
    return table
