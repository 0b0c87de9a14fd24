"""Growth: a sustained rise is flagged within 10 s and names its owner; a plateau, a burst
that drains and steady churn never are. Driven by 1 s samples at explicit times."""

from __future__ import annotations

import random
from collections.abc import Callable

from inspector.metrics import MetricsModel
from inspector.metrics.suspects import GrowthDetector, SuspectPolicy
from inspector.resources import ResourceManagementService, ResourceType
from inspector.resources.counts import StoreAggregate, TypeCounts

Cells = dict[tuple[str, str], tuple[int, int]]  # (component, type) -> (live, bytes)


def aggregate(cells: Cells) -> StoreAggregate:
    by_type: dict[ResourceType, list[int]] = {}
    for (_, rtype), (live, size) in cells.items():
        sums = by_type.setdefault(ResourceType(rtype), [0, 0])
        sums[0] += live
        sums[1] += size
    return StoreAggregate({t: TypeCounts(max(live, 1), max(live, 1) - live, size)
                           for t, (live, size) in by_type.items()}, (), 0, 0,
                          tuple((cid, rtype, live, size) for (cid, rtype), (live, size)
                                in cells.items()))


def run(world: Callable[[int], Cells], seconds: int) -> list[tuple[int, set[tuple[str, str]]]]:
    """Feed one sample a second; the growth rows (component, type) after each."""
    detector = GrowthDetector(SuspectPolicy())
    out = []
    for t in range(seconds):
        detector.observe(aggregate(world(t)), float(t))
        out.append((t, {(s.component_id, s.resource_type) for s in detector.suspects(t)}))
    return out


def first_flag(history: list[tuple[int, set[tuple[str, str]]]], row: tuple[str, str]) -> int:
    return next(t for t, rows in history if row in rows)


def churn(t: int, rng: random.Random) -> Cells:
    # Another tab filling and emptying its cache all the time.
    return {("Viewer#1", "cache"): (rng.randint(0, 40), rng.randint(0, 40) * 50_000)}


def test_a_growing_thumbnail_cache_is_named_within_10_s_beside_churn() -> None:
    rng = random.Random(1)
    start = 20

    def world(t: int) -> Cells:
        grown = max(0, t - start) * 2
        return {**churn(t, rng), ("Gallery#2", "thumbnail"): (5 + grown, (5 + grown) * 200_000)}

    history = run(world, start + 15)
    assert first_flag(history, ("Gallery#2", "thumbnail")) - start <= 10
    assert all(("*", "thumbnail") not in rows for _, rows in history)
    assert all(("Viewer#1", "cache") not in rows and ("*", "cache") not in rows
               for _, rows in history)


def test_the_owner_is_named_while_it_also_holds_a_changing_buffer() -> None:
    rng = random.Random(2)
    start = 10

    def world(t: int) -> Cells:
        grown = max(0, t - start) * 2
        buffer = rng.choice((6, 12, 24)) * 1_000_000
        return {("Gallery#1", "thumbnail"): (grown, grown * 200_000),
                ("Gallery#1", "memory"): (1, buffer)}

    history = run(world, start + 15)
    assert first_flag(history, ("Gallery#1", "thumbnail")) - start <= 10
    assert all(("Gallery#1", "memory") not in rows for _, rows in history)


def test_a_leak_per_dialog_is_named_by_the_dialogs_class() -> None:
    start = 5

    def world(t: int) -> Cells:
        # A dialog opened and closed every second from `start`, each leaking one timer.
        opened = max(0, t - start)
        return {(f"SettingsDialog#{n}", "timer"): (1, 0) for n in range(1, opened + 1)}

    history = run(world, start + 15)
    assert first_flag(history, ("SettingsDialog", "timer")) - start <= 10
    assert all(("*", "timer") not in rows for _, rows in history)


def test_plateau_burst_churn_and_steady_workers_raise_nothing_over_60_s() -> None:
    rng = random.Random(3)

    def world(t: int) -> Cells:
        lru = min(t, 4) * 25  # fills in 4 s, then stays at its cap of 100 with churn
        burst = 30 if 20 <= t < 23 else 0  # a burst that drains
        return {("Lru#1", "cache"): (lru, lru * 10_000),
                ("Import#1", "memory"): (burst, burst * 1_000_000),
                ("Viewer#1", "thumbnail"): (rng.randint(20, 60), rng.randint(20, 60) * 9000),
                ("Loader#1", "worker"): (4, 0)}

    history = run(world, 60)
    assert [(t, rows) for t, rows in history if rows] == []


def test_a_plateau_after_a_long_fill_clears_within_a_bucket_or_two() -> None:
    def world(t: int) -> Cells:
        live = min(t, 20) * 10
        return {("Lru#1", "cache"): (live, live * 1000)}

    history = run(world, 40)
    flagged = [t for t, rows in history if ("Lru#1", "cache") in rows]
    assert flagged  # 20 s of steady filling is growth while it lasts
    assert max(flagged) <= 20 + 4


def test_a_model_nobody_started_still_flags(service: ResourceManagementService) -> None:
    model = MetricsModel(service, app="bare")  # never started: reads take the samples
    try:
        class Owner:
            pass

        class Thumb:
            pass

        owner, kept = Owner(), []
        service.register_component(owner, "Gallery#1")
        found = None
        for t in range(1, 30):
            for _ in range(3):
                kept.append(Thumb())
                service.track_resource(owner, ResourceType.THUMBNAIL, kept[-1], 1000)
            rows = [s for s in model.leak_suspects(1000.0 + t) if s.reason == "growth"]
            if rows:
                found = (t, rows[0])
                break
        assert found is not None
        t, row = found
        assert t <= 10
        assert (row.component_id, row.resource_type) == ("Gallery#1", "thumbnail")
        assert row.resource_id == f"thumbnail-{row.resource_id.split('-')[1]}"
        assert row.name == "Thumb"
    finally:
        model.close()
