"""The interactive ``top``'s state (cli/topstate.py): sorts, selection, scrolling."""

from __future__ import annotations

from cli.render.table import natural_key
from cli.topstate import TopState, sort_components
from inspector.metrics.snapshot import ComponentStats, LeakSuspect, Snapshot


def _snap(components: list[ComponentStats], suspects: list[LeakSuspect] | None = None
          ) -> Snapshot:
    return Snapshot(pid=1, app="t", timestamp=1e9, uptime_s=5.0, created_total=1,
                    destroyed_total=0, live_resources=1, tracked_bytes=0,
                    peak_tracked_bytes=0, rss_bytes=1, peak_rss_bytes=1, active_workers=0,
                    cache_bytes=0, cache_entries=0, event_loop_lag_ms=0.0, gui_stack=[],
                    by_type={}, components=components, leak_suspects=suspects or [])


def _comp(cid: str, live: int = 1, size: int = 0, age: float = 0.0) -> ComponentStats:
    return ComponentStats(id=cid, type="tab", live=live, bytes=size, alive=True, age_s=age)


def test_natural_order_and_every_sort() -> None:
    assert sorted(["Tab#10", "Tab#2", "Tab#1"], key=natural_key) == ["Tab#1", "Tab#2", "Tab#10"]
    comps = [_comp("A", live=1, size=30, age=3), _comp("B", live=5, size=10, age=9),
             _comp("C", live=3, size=20, age=1)]
    assert [c.id for c in sort_components(comps, "bytes", False)] == ["A", "C", "B"]
    assert [c.id for c in sort_components(comps, "live", False)] == ["B", "C", "A"]
    assert [c.id for c in sort_components(comps, "age", False)] == ["B", "A", "C"]
    assert [c.id for c in sort_components(comps, "name", True)] == ["C", "B", "A"]


def test_selection_stays_in_view_and_follows_its_component() -> None:
    state = TopState(rows=10)
    snap = _snap([_comp(f"Tab#{i}", size=i) for i in range(1, 201)])
    state.follow(snap)
    for _ in range(25):
        state.apply("down")
    assert state.selected == 25
    assert state.offset == 16
    state.apply("end")
    assert (state.selected, state.offset) == (199, 190)
    selected = state.order[state.selected]
    state.follow(_snap([_comp("New", size=10**6), *snap.components]))  # a new largest
    assert state.order[state.selected] == selected
