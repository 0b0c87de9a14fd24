"""History sampling: one sample's values, and the sampler thread that takes them."""

from __future__ import annotations

import time

from inspector.metrics import MetricsModel
from inspector.metrics.history import HistoryRings
from inspector.metrics.leaks import LeakFinder
from inspector.metrics.probe import LoopProbe
from inspector.metrics.sampling import HistorySampler
from inspector.metrics.suspects import SuspectPolicy
from inspector.resources import ResourceManagementService, ResourceType

from .helpers import Owner, Thing


def sampler(service: ResourceManagementService, interval_s: float = 1.0) -> HistorySampler:
    return HistorySampler(service, LoopProbe(), HistoryRings(), LeakFinder(
        service, SuspectPolicy()), time.monotonic(), interval_s)


def test_one_sample_holds_the_gauges_of_the_moment(service: ResourceManagementService) -> None:
    taker = sampler(service)
    owner = Owner()
    service.register_component(owner, "Gallery")
    keep = [Thing() for _ in range(3)]
    for thing in keep:
        service.track_resource(owner, ResourceType.THUMBNAIL, thing, 100)
    taker.sample()
    history = taker.rings.to_history()
    assert len(history.t) == 1
    assert history.live_resources == [3]
    assert history.tracked_bytes == [300]
    assert history.cache_bytes == [300]  # thumbnails are cache
    assert history.live_by_type == {"thumbnail": [3]}
    assert history.rss_bytes[0] > 0
    assert history.event_loop_lag_ms == [0.0]  # no heartbeat installed
    # The inspector's share counts what the rings now hold.
    assert taker.inspector_bytes() >= taker.rings.estimated_bytes() > 0
    assert not taker.leaks.observe_due(time.monotonic(), 60.0)  # growth was fed too


def test_the_thread_samples_until_stopped(service: ResourceManagementService) -> None:
    taker = sampler(service, interval_s=0.02)
    assert not taker.running
    taker.start()
    try:
        assert taker.running
        deadline = time.monotonic() + 5
        while len(taker.rings) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(taker.rings) >= 3
    finally:
        taker.stop()
    assert not taker.running
    taken = len(taker.rings)
    time.sleep(0.1)  # five intervals: a running sampler would have added to the rings
    assert len(taker.rings) == taken


def test_sampler_thread_fills_history(service: ResourceManagementService) -> None:
    model = MetricsModel(service, sample_interval_s=0.02)
    model.start()
    try:
        deadline = time.monotonic() + 5
        while len(model.history().t) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(model.history().t) >= 5
    finally:
        model.close()
    n = len(model.history().t)
    time.sleep(0.1)
    assert len(model.history().t) == n  # closed: no more samples
