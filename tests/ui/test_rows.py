"""The tables' named rows, built from a snapshot."""

from __future__ import annotations

from typing import Any

from inspector.metrics.snapshot import (
    CallbackAudit,
    ResourceEntry,
    ResourcePage,
    TeardownAudit,
)
from inspector.ui import rows as r
from inspector.ui.record_table import TableSpec

from .fakes import entry, make_snapshot


def test_a_teardown_without_callbacks_still_has_a_row() -> None:
    snap = make_snapshot(audits=[
        TeardownAudit(component_id="Quiet", reason="explicit", t=1.0, released=3),
        TeardownAudit(component_id="Busy", reason="destroyed", t=2.0, released=0, callbacks=[
            CallbackAudit(name="cb", priority=1, order=0, duration_ms=0.1)]),
    ])
    rows = r.audit_rows(snap)
    assert rows[0][:4] == ("Quiet", "explicit", 1.0, 3)
    assert rows[0][4] is None
    assert rows[1][5] == "cb"
    assert rows[1].callback == "cb"  # the same cell, by name
    assert rows[0].order is None


def test_every_table_shows_the_leading_fields_of_its_row() -> None:
    snap = make_snapshot()
    page = ResourcePage(total=1, offset=0, items=[entry("r1", "Gallery")])
    built: list[tuple[TableSpec[Any], list[Any]]] = [
        (r.COMPONENTS, r.component_rows(snap)), (r.RESOURCES, r.resource_rows(page)),
        (r.SUSPECTS, r.suspect_rows(snap)), (r.WORKERS, r.worker_rows(snap)),
        (r.AUDITS, r.audit_rows(snap)),
    ]
    for spec, rows in built:
        assert rows, spec
        for row in rows:
            assert len(row) >= len(spec.columns)
            spec.key(row)  # every row has a key
    assert r.component_rows(snap)[0] == ("Gallery", "tab", 2, 2000, True)
    suspect = r.suspect_rows(snap)[0]
    assert (suspect.resource, suspect.resource_id) == ("r9", "r9")  # the id past the columns


def test_a_resource_name_tooltip_says_where_it_was_made() -> None:
    made = ResourceEntry(resource_id="r1", component_id="C", resource_type="cache",
                         size_bytes=1, age_s=1.0, thread_id=1, type_name="bytes",
                         alive=True, name="thumbs", site="gallery.py:42")
    bare = entry("r2", "C")
    page = ResourcePage(total=2, offset=0, items=[made, bare])
    rows = r.resource_rows(page)
    assert r.RESOURCES.tooltip is not None
    name_column = [c.title for c in r.RESOURCES.columns].index("name")
    assert r.RESOURCES.tooltip(rows[0], name_column) == "thumbs\nmade at gallery.py:42"
    assert r.RESOURCES.tooltip(rows[0], 0) is None  # other columns keep the default
    assert r.RESOURCES.tooltip(rows[1], name_column) is None  # no site: the default
