"""The cleanup runner: callbacks once each in priority order, then the owner's releases."""

from __future__ import annotations

import logging

import pytest

from inspector.resources.store import ResourceStore
from inspector.resources.types import EventKind, LifecycleEvent, ResourceType


class Owner:
    """A plain owner."""


class Thing:
    """A weakly referenceable resource."""


def test_callbacks_run_once_by_priority_and_a_failure_stops_none(
        caplog: pytest.LogCaptureFixture) -> None:
    events: list[LifecycleEvent] = []
    store = ResourceStore(events.append)
    owner, things = Owner(), [Thing(), Thing()]
    order: list[str] = []

    def failing() -> None:
        order.append("failing")
        raise RuntimeError("boom")

    store.register_cleanup(owner, lambda: order.append("low"), priority=1)
    store.register_cleanup(owner, failing, priority=5)
    store.register_cleanup(owner, lambda: order.append("high"), priority=9)
    for t in things:
        store.track_resource(owner, ResourceType.CACHE, t)
    with caplog.at_level(logging.ERROR, "inspector.resources"):
        assert store.cleanup_component(owner) == 2
    assert order == ["high", "failing", "low"]
    assert "boom" in caplog.text
    (done,) = [e for e in events if e.kind is EventKind.CLEANUP_PERFORMED]
    assert [(r.priority, r.error) for r in done.callbacks] == [
        (9, None), (5, "RuntimeError: boom"), (1, None)]
    assert done.released == 2
    assert store.cleanup_component(owner) == 0  # one-shot: nothing left to run or release
    assert order == ["high", "failing", "low"]


def test_a_reentrant_cleanup_is_a_no_op_and_releases_by_callbacks_count() -> None:
    store = ResourceStore()
    owner = Owner()
    thing, late = Thing(), Thing()
    rid = store.track_resource(owner, ResourceType.CACHE, thing)
    inner: list[int] = []

    def callback() -> None:
        inner.append(store.cleanup_component(owner))  # re-entered: nothing
        store.release_resource(owner, rid)  # released by the callback: still counted
        store.track_resource(owner, ResourceType.CACHE, late)  # tracked meanwhile: released

    store.register_cleanup(owner, callback)
    assert store.cleanup_component(owner) == 2
    assert inner == [0]
    assert store.aggregate().live_total == 0


def test_cleanup_all_runs_deferred_and_registered_owners() -> None:
    store = ResourceStore()
    owners = [Owner() for _ in range(3)]
    held = [store.track_resource(o, ResourceType.CUSTOM, [i]) for i, o in enumerate(owners)]
    assert store.cleanup_all() == 3
    assert not any(store.is_tracked(rid) for rid in held)
