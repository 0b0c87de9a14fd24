"""The interactive ``top``'s frame (cli/render/interactive.py): the selected row, a page of
one component's resources, and the keys line, within the terminal's height."""

from __future__ import annotations

from cli.render.interactive import render_tui
from cli.topstate import TopState
from inspector.metrics.snapshot import ComponentStats, ResourceEntry, ResourcePage, Snapshot
from tests.cli.conftest import lines_with, make_snapshot, text_of


def _snapshot() -> Snapshot:
    return make_snapshot(components=[
        ComponentStats(id=f"Tab#{i}", type="tab", live=i, bytes=i * 100, alive=True)
        for i in range(1, 41)])


def test_components_fit_the_height_and_the_keys_line_ends_the_frame() -> None:
    state = TopState()
    out = text_of(render_tui(_snapshot(), state, height=30, width=100), width=100)
    assert state.rows < 40
    assert f"Components by bytes ↓  1-{state.rows} of 40" in out
    assert out.rstrip().splitlines()[-1].startswith("b/l/n/a sort")
    assert len(out.splitlines()) <= 30


def test_a_component_s_resources_are_one_enter_away() -> None:
    state = TopState()
    snap = _snapshot()
    render_tui(snap, state, height=30, width=100)
    state.apply("enter")
    page = ResourcePage(total=1, offset=0, items=[ResourceEntry(
        resource_id="r1", component_id="Tab#40", resource_type="cache", size_bytes=2048,
        age_s=3.0, thread_id=1, type_name="dict", alive=True)])
    out = text_of(render_tui(snap, state, 30, 100, page), width=100)
    assert "Resources of Tab#40  1-1 of 1" in out  # the selected (largest) component
    (row,) = lines_with(out, "r1")
    assert row.split()[:4] == ["r1", "cache", "2.0", "KiB"]
