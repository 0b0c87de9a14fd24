"""Lifecycle markers: merged by gap, bounded in number, labelled with escaped names."""

from __future__ import annotations

from inspector.metrics.snapshot import Marker
from inspector.ui.markers import MAX_MARKERS, MarkerGroup, group_markers, groups_in_view


def markers_every(step: float, n: int, kind: str = "registered") -> list[Marker]:
    return [Marker(t=i * step, kind=kind, component_id=f"C{i}") for i in range(n)]


def test_group_markers_splits_at_the_gap() -> None:
    groups = group_markers(markers_every(0.4, 6), gap=1.0)
    assert [(g.t, g.count) for g in groups] == [(0.0, 3), (1.2000000000000002, 3)]


def test_a_group_takes_its_most_telling_kind() -> None:
    markers = [Marker(t=0.0, kind="registered", component_id="A"),
               Marker(t=0.1, kind="destroyed", component_id="B"),
               Marker(t=0.2, kind="cleaned_up", component_id="C")]
    assert group_markers(markers, gap=1.0) == [MarkerGroup(0.0, "destroyed", "B", 3)]


def test_only_the_newest_groups_from_the_window_start_are_kept() -> None:
    markers = markers_every(1.0, 100)
    # 100 s over 800 px: 8 px is 1 s, so markers 1 s apart do not merge.
    groups = groups_in_view(markers, lo=10.0, span=100.0, width_px=800.0)
    assert len(groups) == MAX_MARKERS
    assert groups[-1].component_id == "C99"
    assert groups_in_view(markers, lo=95.0, span=100.0, width_px=800.0)[0].t == 95.0


def test_labels_and_tooltips_escape_and_cut_names() -> None:
    group = MarkerGroup(t=3.25, kind="destroyed", component_id="x\x1b[2J" + "y" * 40, count=3)
    assert group.label.startswith("destroyed x\\x1b[2J")
    assert group.label.endswith("… +2")
    assert group.tooltip.endswith("and 2 more\nat 3.2 s")
    assert "\x1b" not in group.tooltip
