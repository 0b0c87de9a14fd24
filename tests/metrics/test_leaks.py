"""The leak finder of one real service: its findings, its growth windows, its extensions."""

from __future__ import annotations

import time

from inspector.metrics.leaks import LeakFinder
from inspector.metrics.snapshot import GROWTH, RETAINED_AFTER_CLEANUP, LeakSuspect
from inspector.resources import ResourceManagementService, ResourceType

from .helpers import FAST, Owner, Thing


def grow(service: ResourceManagementService, finder: LeakFinder, owner: Owner,
         cache: list[Thing], windows: int, start: float = 0.0) -> float:
    """Add ten thumbnails per window, one observation per window; the time of the last."""
    now = start
    for n in range(windows):
        for _ in range(10):
            cache.append(Thing())
            service.track_resource(owner, ResourceType.THUMBNAIL, cache[-1], 100)
        now = start + n + 1.0
        finder.observe(service.aggregate(), now)
    return now


def test_a_resource_kept_after_its_owners_cleanup_is_retained_once_old_enough(
        service: ResourceManagementService) -> None:
    finder = LeakFinder(service, FAST)
    owner = Owner()
    service.register_component(owner, "Leaky")
    leaked = Thing()
    rid = service.track_resource(owner, ResourceType.CACHE, leaked, 64)
    service.cleanup_component(owner)
    now = time.monotonic()
    assert finder.suspects(now) == []  # not yet: it waits retained_after_s
    (suspect,) = finder.suspects(now + 1.0)
    assert (suspect.resource_id, suspect.reason) == (rid, RETAINED_AFTER_CLEANUP)
    del leaked
    assert finder.suspects(now + 1.0) == []


def test_growth_is_flagged_and_a_new_policy_starts_the_windows_again(
        service: ResourceManagementService) -> None:
    finder = LeakFinder(service, FAST)
    owner = Owner()
    service.register_component(owner, "Gallery")
    cache: list[Thing] = []
    now = grow(service, finder, owner, cache, windows=5)
    growth = [s for s in finder.suspects(now) if s.reason == GROWTH]
    assert [(s.component_id, s.resource_type) for s in growth] == [("Gallery", "thumbnail")]
    finder.policy = FAST  # assigning thresholds resets what was observed
    assert finder.policy is FAST
    assert [s for s in finder.suspects(now) if s.reason == GROWTH] == []


def test_observation_is_due_once_an_interval_has_passed(
        service: ResourceManagementService) -> None:
    finder = LeakFinder(service, FAST)
    finder.observe(service.aggregate(), 10.0)
    assert not finder.observe_due(10.5, 1.0)
    assert finder.observe_due(11.0, 1.0)


def test_extensions_add_their_own_suspects(service: ResourceManagementService) -> None:
    finder = LeakFinder(service, FAST)
    seen: list[float] = []

    def add_one(found: list[LeakSuspect], now: float) -> list[LeakSuspect]:
        seen.append(now)
        return [*found, LeakSuspect(component_id="Window#1", resource_type="widget",
                                    resource_id="widget-1", reason="retained_after_close",
                                    age_s=1.0)]

    finder.add_filter(add_one)
    (suspect,) = finder.suspects(42.0)
    assert suspect.reason == "retained_after_close"
    assert seen == [42.0]
