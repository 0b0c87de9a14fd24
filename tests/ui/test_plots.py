"""Plots: data reaches the curves, markers stay bounded, clearing the history."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from inspector.metrics.snapshot import History, Marker
from inspector.ui import HistoryPlots, InspectorDock
from inspector.ui.markers import MAX_MARKERS

from .conftest import delete_now
from .fakes import ClearableFakeSource, FakeSource, append_sample, make_history


@pytest.fixture
def plots(qapp: object) -> Iterator[HistoryPlots]:
    widget = HistoryPlots()
    yield widget
    delete_now(widget)


def markers_every(step: float, n: int, kind: str = "registered") -> list[Marker]:
    return [Marker(t=i * step, kind=kind, component_id=f"C{i}") for i in range(n)]


def test_every_column_reaches_its_curve(plots: HistoryPlots) -> None:
    h = make_history(30, types=("cache", "worker", "thumbnail"))
    assert plots.set_history(h)
    for key, column in (("rss", h.rss_bytes), ("tracked", h.tracked_bytes),
                        ("workers", h.active_workers), ("cache", h.cache_bytes),
                        ("lag", h.event_loop_lag_ms),
                        ("type:thumbnail", h.live_by_type["thumbnail"])):
        x, y = plots.data(key)
        assert list(x) == h.t
        assert list(y) == pytest.approx(column)


def test_the_same_history_twice_touches_nothing(plots: HistoryPlots) -> None:
    h = make_history(30)
    assert plots.set_history(h)
    assert not plots.set_history(h)
    assert plots.set_history(append_sample(h))


def test_a_type_that_appears_later_gets_a_curve_of_its_own(plots: HistoryPlots) -> None:
    h = make_history(10, types=("cache",))
    plots.set_history(h)
    assert "type:network" not in plots.curves
    plots.set_history(append_sample(h, live_by_type={"network": 4}))
    x, y = plots.data("type:network")
    assert len(x) == 11
    assert y[-1] == 4


def test_columns_of_different_lengths_plot_their_common_part(plots: HistoryPlots) -> None:
    h = make_history(10)
    broken = History(t=h.t, rss_bytes=h.rss_bytes[:7], tracked_bytes=h.tracked_bytes,
                     live_resources=h.live_resources, active_workers=h.active_workers,
                     cache_bytes=h.cache_bytes, event_loop_lag_ms=h.event_loop_lag_ms,
                     live_by_type={}, markers=[])
    plots.set_history(broken)
    x, y = plots.data("rss")
    assert len(x) == len(y) == 7


def test_markers_reuse_a_bounded_pool_of_lines(plots: HistoryPlots) -> None:
    plots.resize(2400, 600)  # wide: markers 2.5 s apart are pixels apart, not one group
    plots.show()
    h = make_history(600, markers=markers_every(2.5, 240))
    plots.set_history(h)
    assert len(plots.marker_groups) == MAX_MARKERS
    items = plots.marker_items
    assert items <= 4 * MAX_MARKERS
    for k in range(1, 6):  # the window slides; markers change; no item is added
        plots.set_history(make_history(600, t0=k * 10.0, markers=markers_every(2.5, 240 + k)))
        assert plots.marker_items == items
    # Fewer markers later: extra lines are hidden, not deleted and re-created.
    plots.set_history(make_history(600, t0=100.0, markers=[Marker(t=300.0, kind="destroyed",
                                                                  component_id="X")]))
    assert plots.marker_count == 1
    assert plots.marker_items == items


def test_only_markers_inside_the_plotted_window_are_drawn(plots: HistoryPlots) -> None:
    inside = Marker(t=50.0, kind="cleaned_up", component_id="In")
    h = make_history(20, t0=40.0, markers=[Marker(t=5.0, kind="registered",
                                                  component_id="Old"), inside])
    plots.set_history(h)
    assert [(g.t, g.component_id) for g in plots.marker_groups] == [(50.0, "In")]


def test_a_burst_of_markers_is_one_labelled_line(plots: HistoryPlots) -> None:
    burst = [Marker(t=5.0 + i * 0.01, kind="registered", component_id=f"Tab{i}")
             for i in range(12)]
    burst.append(Marker(t=5.2, kind="destroyed", component_id="Doomed"))
    plots.set_history(make_history(30, markers=burst))
    assert len(plots.marker_groups) == 1
    group = plots.marker_groups[0]
    assert (group.kind, group.count) == ("destroyed", 13)  # the most telling kind wins
    assert group.label == "destroyed Doomed +12"


def test_markers_closer_than_a_label_share_a_line(plots: HistoryPlots) -> None:
    plots.resize(1200, 600)
    plots.show()
    markers = [Marker(t=100.0, kind="registered", component_id="A"),
               Marker(t=100.5, kind="registered", component_id="B"),  # < a label apart
               Marker(t=300.0, kind="registered", component_id="C")]
    plots.set_history(make_history(600, markers=markers))
    assert [(g.component_id, g.count) for g in plots.marker_groups] == [("A", 2), ("C", 1)]


def test_marker_labels_are_tooltips_on_thin_lines_with_names_escaped(
        plots: HistoryPlots) -> None:
    plots.set_history(make_history(30, markers=[
        Marker(t=3.0, kind="registered", component_id="dict{0}\x1b[31m")]))
    for layer in plots._marker_layers:
        line = layer.lines[0]
        assert line.toolTip().startswith("registered: dict{0}\\x1b[31m")
        assert line.pen.width() <= 1
        assert not hasattr(line, "label") or line.label is None  # nothing drawn on the data


def test_byte_axes_read_in_binary_units_and_never_go_negative(plots: HistoryPlots) -> None:
    from inspector.ui.byte_axis import ByteAxis

    axis = plots.memory_plot.getAxis("left")
    assert isinstance(axis, ByteAxis)
    assert isinstance(plots.memory_plot.getAxis("right"), ByteAxis)  # tracked
    assert isinstance(plots.workers_plot.getAxis("right"), ByteAxis)  # cache
    assert axis.tickStrings([0.0, 512.0, 1536.0, 3 * 2**20, -1024.0], 1.0, 512.0) == [
        "0 B", "512 B", "1.5 KiB", "3.0 MiB", ""]
    (spacing, _), = axis.tickSpacing(0, 100 * 2**20, 400)
    assert int(spacing) & (int(spacing) - 1) == 0
    assert spacing == int(spacing)
    # An empty plot: the view stays at or above zero, whatever autorange wants.
    plots.set_history(make_history(0))
    plots.resize(400, 600)
    plots.show()
    for plot in plots.plots:
        plot.vb.setYRange(-400, 400, padding=0)
        assert plot.vb.viewRange()[1][0] >= 0


def test_legends_sit_outside_the_data_and_rss_is_split(plots: HistoryPlots) -> None:
    h = make_history(10)
    own = [1000] * 10
    h = History(t=h.t, rss_bytes=h.rss_bytes, tracked_bytes=h.tracked_bytes,
                live_resources=h.live_resources, active_workers=h.active_workers,
                cache_bytes=h.cache_bytes, event_loop_lag_ms=h.event_loop_lag_ms,
                live_by_type=h.live_by_type, markers=[], inspector_bytes=own)
    plots.set_history(h)
    assert list(plots.data("rss")[1]) == [r - 1000 for r in h.rss_bytes]
    assert list(plots.data("inspector")[1]) == own
    for plot in plots.plots:
        assert plot.legend is None  # no legend inside any view box
    names = [label.text for legend in plots.legends.values() for _, label in legend.items]
    assert {"app RSS", "resinspect", "tracked (right)", "workers"} <= set(names)


# -- clear history ----------------------------------------------------------------------------


def test_clear_history_asks_a_source_that_can(make_dock: Callable[..., InspectorDock]) -> None:
    source = ClearableFakeSource()
    dock = make_dock(source)
    dock.refresh()
    assert len(dock.plots.data("rss")[0]) == 60
    dock.clear_button.click()
    assert source.cleared == 1
    assert len(dock.plots.data("rss")[0]) == 0
    dock.refresh()
    x, _y = dock.plots.data("rss")
    assert len(x) == 0


def test_clear_history_without_source_support_hides_the_old_samples(
        make_dock: Callable[..., InspectorDock]) -> None:
    source = FakeSource(hist=make_history(60, markers=[
        Marker(t=10.0, kind="registered", component_id="Before")]))
    dock = make_dock(source)
    dock.refresh()
    assert len(dock.plots.marker_groups) == 1
    dock.clear_history()
    dock.refresh()  # the source still returns all 60 old samples
    x, _y = dock.plots.data("rss")
    assert len(x) == 0
    assert dock.plots.marker_groups == []

    source.hist = append_sample(append_sample(source.hist, rss_bytes=1),
                                rss_bytes=2, markers=[
                                    Marker(t=61.0, kind="destroyed", component_id="After")])
    dock.refresh()
    x, y = dock.plots.data("rss")
    assert list(x) == [60.0, 61.0]
    assert list(y) == [1.0, 2.0]
    assert [g.component_id for g in dock.plots.marker_groups] == ["After"]


def test_plotted_values_are_floats_for_large_byte_counts(plots: HistoryPlots) -> None:
    h = append_sample(make_history(5), rss_bytes=2**40)
    plots.set_history(h)
    _x, y = plots.data("rss")
    assert y.dtype == np.float64
    assert y[-1] == 2**40
