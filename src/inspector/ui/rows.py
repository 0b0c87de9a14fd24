"""The dock's table rows: one ``NamedTuple`` per table, built from a snapshot, and the
``TableSpec`` that shows it.

A row's fields are its columns in order (cell ``i`` is field ``i``), then any fields its
table needs past the columns (a resource's creation site for the name's tooltip, a suspect's
bare id for `why`). Rows are values: equal rows are not redrawn.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtGui import QColor

from inspector.metrics.snapshot import ResourcePage, Snapshot

from .columns import Column
from .record_table import TableSpec

GREY = QColor("#9e9e9e")
RED = QColor("#e53935")
AMBER = QColor("#fb8c00")


class ComponentRow(NamedTuple):
    """A component: its id, type, live resources, tracked bytes, and whether it lives."""

    component: str
    type: str
    live: int
    nbytes: int
    alive: bool


class ResourceRow(NamedTuple):
    """A resource of the selected component; ``site`` (past the columns) is where it was
    made, shown in the name's tooltip."""

    resource: str
    type: str
    name: str
    size: int
    age_s: float
    thread: int
    alive: bool
    site: str = ""


class SuspectRow(NamedTuple):
    """A leak suspect; ``resource_id`` (past the columns) is what `why` is asked about."""

    component: str
    type: str
    resource: str
    reason: str
    age_s: float
    size: int
    detail: str
    resource_id: str


class WorkerRow(NamedTuple):
    """A tracked worker: its id, owner, class, whether it runs, and its age."""

    worker: str
    owner: str
    cls: str
    running: bool
    age_s: float


class AuditRow(NamedTuple):
    """One cleanup callback of a teardown (the callback fields are empty for a teardown
    that ran none)."""

    component: str
    reason: str
    t: float
    released: int
    order: int | None
    callback: str
    priority: int | None
    duration_ms: float | None
    error: str


def component_rows(snapshot: Snapshot) -> list[ComponentRow]:
    """One row per component."""
    return [ComponentRow(c.id, c.type, c.live, c.bytes, c.alive) for c in snapshot.components]


def resource_rows(page: ResourcePage) -> list[ResourceRow]:
    """One row per resource of a page."""
    return [ResourceRow(r.resource_id, r.resource_type, r.name or r.type_name, r.size_bytes,
                        r.age_s, r.thread_id, r.alive, r.site)
            for r in page.items]


def suspect_rows(snapshot: Snapshot) -> list[SuspectRow]:
    """One row per leak suspect, with its reason and age."""
    return [
        SuspectRow(
            s.component_id, s.resource_type,
            " ".join(p for p in (s.name, s.resource_id) if p)
            + (f" (x{s.count})" if s.count > 1 else ""),
            s.reason if s.confirmed else f"{s.reason} (pending)", s.age_s, s.size_bytes,
            "; ".join(p for p in (s.detail, f"made at {s.site}" if s.site else "") if p),
            s.resource_id)
        for s in snapshot.leak_suspects
    ]


def worker_rows(snapshot: Snapshot) -> list[WorkerRow]:
    """One row per tracked worker, with its owner and age."""
    return [WorkerRow(w.resource_id, w.component_id, w.type_name, w.running, w.age_s)
            for w in snapshot.workers]


def audit_rows(snapshot: Snapshot) -> list[AuditRow]:
    """One row per cleanup callback run (one row for a teardown that ran none)."""
    rows: list[AuditRow] = []
    for a in snapshot.audits:
        if not a.callbacks:
            rows.append(AuditRow(a.component_id, a.reason, a.t, a.released,
                                 None, "", None, None, ""))
        rows.extend(AuditRow(a.component_id, a.reason, a.t, a.released, cb.order, cb.name,
                             cb.priority, cb.duration_ms, cb.error or "")
                    for cb in a.callbacks)
    return rows


def _resource_tooltip(row: ResourceRow, column: int) -> str | None:
    if column == ResourceRow._fields.index("name") and row.site:
        return f"{row.name}\nmade at {row.site}"
    return None


COMPONENTS = TableSpec[ComponentRow](
    (Column("component"), Column("type"), Column("live", "int"), Column("bytes", "bytes"),
     Column("alive", "bool")),
    key=lambda r: r.component, sort_column=3,
    foreground=lambda r: None if r.alive else GREY, widths=(180, 90, 60, 90),
)
RESOURCES = TableSpec[ResourceRow](
    (Column("resource"), Column("type"), Column("name"), Column("size", "bytes"),
     Column("age", "age"), Column("thread", "int"), Column("alive", "bool")),
    key=lambda r: r.resource, sort_column=3, tooltip=_resource_tooltip,
    foreground=lambda r: None if r.alive else GREY, widths=(150, 80, 110, 80, 60, 110),
)
SUSPECTS = TableSpec[SuspectRow](
    (Column("component"), Column("type"), Column("resource"), Column("reason"),
     Column("age", "age"), Column("size", "bytes"), Column("detail")),
    key=lambda r: (r.component, r.type, r.resource, r.reason), sort_column=4,
    foreground=lambda _r: AMBER, widths=(160, 80, 140, 160, 60, 80),
)
WORKERS = TableSpec[WorkerRow](
    (Column("worker"), Column("owner"), Column("class"), Column("running", "bool"),
     Column("age", "age")),
    key=lambda r: r.worker, sort_column=4,
    foreground=lambda r: None if r.running else GREY, widths=(150, 160, 120, 70),
)
AUDITS = TableSpec[AuditRow](
    (Column("component"), Column("reason"), Column("t", "seconds"),
     Column("released", "int"), Column("order", "int"), Column("callback"),
     Column("priority", "int"), Column("duration ms", "ms"), Column("error")),
    key=lambda r: (r.component, r.t, r.order), sort_column=2,
    foreground=lambda r: RED if r.error else None,
    widths=(160, 110, 60, 70, 50, 160, 60, 80),
)
