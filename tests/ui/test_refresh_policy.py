"""What a refresh may skip: idle plots, an unchanged resource list."""

from __future__ import annotations

import pytest

from inspector.metrics.snapshot import ComponentStats, Marker
from inspector.ui import refresh_policy
from inspector.ui.refresh_policy import PlotThrottle, ResourceFeed

from .fakes import append_sample, make_history, make_snapshot


class Clock:
    """``time.monotonic`` under the test's control."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr("inspector.ui.refresh_policy.time.monotonic", c)
    return c


def test_plots_redraw_when_what_they_show_changes(clock: Clock) -> None:
    throttle = PlotThrottle()
    history = make_history(10, types=("cache",))
    assert throttle.due(history, 500.0)  # first time
    assert not throttle.due(history, 500.0)
    assert not throttle.due(append_sample(history), 500.0)  # only time moved on
    assert throttle.due(append_sample(history, live_resources=999), 500.0)
    grown = append_sample(history, markers=[Marker(t=10.5, kind="destroyed",
                                                   component_id="C")])
    assert throttle.due(grown, 500.0)
    frozen = append_sample(grown, event_loop_lag_ms=800.0)
    assert throttle.due(frozen, 500.0)  # a freeze began


def test_idle_plots_redraw_every_idle_period(clock: Clock) -> None:
    throttle = PlotThrottle()
    history = make_history(10)
    assert throttle.due(history, 500.0)
    clock.now += refresh_policy.PLOT_IDLE_S - 0.1
    assert not throttle.due(history, 500.0)
    clock.now += 0.2
    assert throttle.due(history, 500.0)


def test_resources_refetch_when_counts_move_or_shown_ages_go_stale(clock: Clock) -> None:
    feed = ResourceFeed()
    snap = make_snapshot()
    key = feed.key_of("Gallery", snap)
    assert key == ("Gallery", 2, 2000, 0, 0)
    assert feed.due(key, on_screen=True, force=False)  # never fetched
    feed.fetched(key)
    assert not feed.due(key, on_screen=True, force=False)
    assert feed.due(key, on_screen=False, force=True)
    grown = make_snapshot(components=[ComponentStats(id="Gallery", type="tab", live=3,
                                                     bytes=2100, alive=True)])
    assert feed.due(feed.key_of("Gallery", grown), on_screen=False, force=False)
    clock.now += refresh_policy.RESOURCE_MAX_AGE_S + 0.1
    assert not feed.due(key, on_screen=False, force=False)  # stale, but nobody looks
    assert feed.due(key, on_screen=True, force=False)
    feed.forget()
    feed.fetched(key)
    assert feed.key_of("Gone", snap) == ("Gone",)
    assert feed.due(("Gone",), on_screen=False, force=False)
