"""Confirmed suspects: a retained resource counts once it survived a full collection."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator

import pytest

from inspector.fleet.budgets import evaluate, parse_rule
from inspector.metrics import MetricsModel
from inspector.metrics.gcwatch import WATCH
from inspector.metrics.snapshot import LeakSuspect
from inspector.metrics.suspects import SuspectPolicy
from inspector.resources import BaseResourceCoordinator, ResourceManagementService, ResourceType

_KEPT: list[object] = []


class Blob:
    """A resource in a plain reference cycle: garbage, waiting for the collector."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)
        self.me = self


class Tab:
    pass


def await_true(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def fast_model(service: ResourceManagementService, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[MetricsModel]:
    # Python's own collections stay off, so only the forced one can confirm or free.
    monkeypatch.setattr(WATCH, "min_interval_s", 0.5)
    monkeypatch.setattr(WATCH, "last_forced", float("-inf"))
    # The suite's heap makes a full collection slow on a busy machine: not this test's rule.
    monkeypatch.setattr(WATCH, "max_pause_s", 60.0)
    monkeypatch.setattr(WATCH, "last_duration_s", 0.0)
    was_enabled = gc.isenabled()
    gc.disable()
    model = MetricsModel(service, app="t", sample_interval_s=0.05,
                         policy=SuspectPolicy(retained_after_s=0.2, confirm_after_s=0.3))
    model.start()
    try:
        yield model
    finally:
        model.close()
        _KEPT.clear()
        if was_enabled:
            gc.enable()


def _mine(model: MetricsModel, rid: str) -> list[LeakSuspect]:
    return [s for s in model.leak_suspects() if s.resource_id == rid]


def test_a_big_object_in_a_plain_cycle_is_never_confirmed(
        service: ResourceManagementService, fast_model: MetricsModel) -> None:
    tab = Tab()
    coord = BaseResourceCoordinator("Tab#1", service).bind_to_component(tab)
    blob = Blob(10_000_000)
    rid = coord.track(blob, ResourceType.MEMORY, size_bytes=10_000_000).resource_id
    del blob
    service.cleanup_component(tab)
    seen: list[LeakSuspect] = []

    def gone() -> bool:
        now = _mine(fast_model, rid)
        seen.extend(now)
        return not now and WATCH.forced > 0 and fast_model.service.watched() == []

    assert await_true(gone), "the cycle was never collected"
    assert all(not s.confirmed for s in seen)


def test_a_held_resource_is_confirmed_after_a_forced_collection(
        service: ResourceManagementService, fast_model: MetricsModel) -> None:
    tab = Tab()
    coord = BaseResourceCoordinator("Tab#1", service).bind_to_component(tab)
    blob = Blob(1000)
    _KEPT.append(blob)
    rid = coord.track(blob, ResourceType.MEMORY, size_bytes=1000).resource_id
    service.cleanup_component(tab)
    assert await_true(lambda: bool(_mine(fast_model, rid)))
    first = _mine(fast_model, rid)[0]
    assert await_true(lambda: any(s.confirmed for s in _mine(fast_model, rid)))
    # Pending first (no collection since its release), then confirmed by one.
    assert first.reason == "retained_after_cleanup"
    assert WATCH.forced > 0


def test_pending_suspects_break_no_budget_and_groups_count_members() -> None:
    from tests.cli.conftest import make_snapshot  # the shared snapshot builder

    def suspect(rid: str, confirmed: bool, count: int = 1) -> LeakSuspect:
        return LeakSuspect(component_id="Tab#1", resource_type="memory", resource_id=rid,
                           reason="retained_after_cleanup", age_s=6.0, confirmed=confirmed,
                           count=count)

    a = make_snapshot(leak_suspects=[])
    pending = make_snapshot(leak_suspects=[suspect("memory-1", False, 3)])
    confirmed = make_snapshot(leak_suspects=[suspect("memory-1", True, 3)])
    rule = parse_rule("suspects>2")
    assert not evaluate(rule, a, pending).broken
    result = evaluate(rule, a, confirmed)
    assert result.broken
    assert result.value == 3


def test_suspects_of_one_class_type_and_site_are_one_row(
        service: ResourceManagementService) -> None:
    model = MetricsModel(service, app="t", policy=SuspectPolicy(retained_after_s=0.0))
    try:
        rids = []
        for i in range(3):
            tab = Tab()
            coord = BaseResourceCoordinator(f"Tab#{i + 1}", service).bind_to_component(tab)
            blob = Blob(100)
            _KEPT.append(blob)
            rids.append(coord.track(blob, ResourceType.MEMORY, size_bytes=100).resource_id)
            service.cleanup_component(tab)
        other = Blob(5)
        _KEPT.append(other)
        tab = Tab()
        coord = BaseResourceCoordinator("Tab#9", service).bind_to_component(tab)
        lone = coord.track(other, ResourceType.MEMORY).resource_id  # another site
        service.cleanup_component(tab)
        rows = [s for s in model.leak_suspects() if s.reason == "retained_after_cleanup"]
        (group,) = [s for s in rows if s.count == 3]
        assert group.resource_id == rids[-1]
        assert group.component_id == "Tab#3"
        assert group.size_bytes == 300
        assert [s.resource_id for s in rows if s.count == 1] == [lone]
    finally:
        model.close()
        _KEPT.clear()


def test_forced_collections_are_rate_limited_and_skipped_when_slow() -> None:
    from inspector.metrics.gcwatch import CollectionWatch

    watch = CollectionWatch(min_interval_s=10.0, max_pause_s=0.1)
    assert watch.maybe_collect(now=100.0)
    assert not watch.maybe_collect(now=105.0)  # within 10 s of the last forced one
    watch.last_duration_s = 0.2
    assert not watch.maybe_collect(now=120.0)  # the last one took over 100 ms
    watch.last_duration_s = 0.01
    assert watch.maybe_collect(now=121.0)
    assert watch.forced == 2
