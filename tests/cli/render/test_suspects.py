"""Leak suspects grouped by fingerprint (cli/render/suspects.py)."""

from __future__ import annotations

from rich.console import Console

from cli.render.suspects import group_suspects
from cli.render.top import render_top
from inspector.metrics.snapshot import ComponentStats, LeakSuspect
from tests.cli.conftest import make_snapshot


def test_suspects_with_the_same_fingerprint_are_one_row() -> None:
    suspects = [LeakSuspect(component_id=f"ResultsTab#{i}", resource_type="widget",
                            resource_id=f"w{i}", reason="retained_after_cleanup",
                            age_s=float(i), detail="x " * 200) for i in range(30)]
    owner = ComponentStats(id="ResultsTab#1", type="tab", live=1, bytes=0, alive=True)
    snap = make_snapshot(components=[owner], leak_suspects=suspects, by_type={})
    groups = group_suspects(snap)
    assert len(groups) == 1
    assert groups[0].count == 30
    assert groups[0].owner == "ResultsTab"
    console = Console(width=80, force_terminal=False, color_system=None)
    with console.capture() as cap:
        console.print(render_top(snap))
    out = cap.get()
    assert "30 in 1 groups" in out
    detail = [line for line in out.splitlines() if "x x x" in line]
    assert len(detail) == 1
    assert "…" in detail[0]
    assert max(len(line) for line in out.splitlines()) <= 80
