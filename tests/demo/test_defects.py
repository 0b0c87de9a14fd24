"""Each defect of the Debug menu shows up in the snapshot, with its owner and its reason."""

from __future__ import annotations

import threading
import time
from typing import Any

from inspector.demo.debug import DefectPlanter
from inspector.metrics.model import MetricsModel
from inspector.metrics.snapshot import GROWTH, ORPHAN_WORKER, RETAINED_AFTER_CLEANUP
from inspector.resources import ResourceManagementService, orphaned_workers

from .conftest import suspects, wait_for


def planter_of(make_window: Any) -> DefectPlanter:
    planter = make_window().debug
    assert isinstance(planter, DefectPlanter)
    return planter


def test_a_worker_leaked_past_its_owner_is_an_orphan_worker(
        make_window: Any, model: MetricsModel, service: ResourceManagementService) -> None:
    planter = planter_of(make_window)
    cid = planter.leak_worker()

    assert cid.startswith("LeakyWorkerController#")
    assert cid not in service.get_statistics()["by_component"]  # the owner is gone
    wait_for(lambda: suspects(model.snapshot(), ORPHAN_WORKER, cid))
    (found,) = suspects(model.snapshot(), ORPHAN_WORKER, cid)
    assert found.resource_type == "worker"
    assert found.resource_id.startswith("worker-")
    assert any(c.id == cid and not c.alive for c in model.snapshot().components)
    # The coordinator held the running thread instead of destroying (or terminating) it.
    assert any(w.isRunning() for w in orphaned_workers())

    planter.shutdown()
    assert not orphaned_workers()
    assert not suspects(model.snapshot(), ORPHAN_WORKER, cid)


def test_a_cache_growing_without_bound_is_reported_as_growth(
        make_window: Any, model: MetricsModel) -> None:
    planter = planter_of(make_window)
    cid = planter.start_growing_cache()

    wait_for(lambda: suspects(model.snapshot(), GROWTH, cid), timeout=6)
    (found,) = suspects(model.snapshot(), GROWTH, cid)
    assert found.resource_type == "thumbnail"
    assert found.size_bytes > 0
    growing = planter.growing_cache
    assert growing is not None
    assert growing.frames >= 4

    released = planter.stop_growing_cache()
    assert released >= 5  # the thumbnails, the list and the timer
    assert planter.growing_cache is None
    assert model.snapshot().live_resources == 0


def test_blocking_the_gui_thread_shows_lag_and_where(make_window: Any,
                                                     model: MetricsModel) -> None:
    planter = planter_of(make_window)
    seen: list[tuple[float, list[str]]] = []
    stop = threading.Event()

    def watch() -> None:  # what `resinspect top` does: read from another thread
        while not stop.wait(0.1):
            snap = model.snapshot()
            seen.append((snap.event_loop_lag_ms, list(snap.gui_stack)))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        time.sleep(0.2)
        planter.block_gui(1.0)
    finally:
        stop.set()
        watcher.join()

    blocked = [(lag, stack) for lag, stack in seen if lag > model.probe.threshold_ms]
    assert blocked, seen
    lag, stack = max(blocked)
    assert lag > 700
    assert stack
    assert stack[-1].startswith("block_gui (")
    assert "debug.py:" in stack[-1]


def test_a_cleanup_callback_that_raises_is_in_the_teardown_audit(
        make_window: Any, model: MetricsModel, service: ResourceManagementService) -> None:
    planter = planter_of(make_window)
    cid = planter.raise_in_cleanup()

    audits = [a for a in model.snapshot().audits if a.component_id == cid]
    assert audits
    cleanup = audits[0]
    assert cleanup.reason == "cleanup"
    errors = {c.name: c.error for c in cleanup.callbacks if c.error}
    assert errors == {"FlakyTeardownController.flush_journal":
                      "OSError: planted: could not flush the case journal (disk full)"}
    # The other teardown step still ran: the scratch buffer was released.
    assert len(cleanup.callbacks) == 2
    assert cleanup.released == 1
    assert service.get_statistics()["by_type"]["memory"] == {
        "live": 0, "created": 1, "destroyed": 1, "bytes": 0}


def test_a_thumbnail_kept_after_cleanup_is_retained_after_cleanup(
        make_window: Any, model: MetricsModel) -> None:
    planter = planter_of(make_window)
    cid = planter.retain_thumbnail()

    wait_for(lambda: suspects(model.snapshot(), RETAINED_AFTER_CLEANUP, cid))
    (found,) = suspects(model.snapshot(), RETAINED_AFTER_CLEANUP, cid)
    assert found.resource_type == "thumbnail"
    assert found.size_bytes == 128 * 96 * 4
    assert model.snapshot().live_resources == 0  # released, yet alive: that is the leak

    planter.shutdown()  # the global list lets go
    assert not suspects(model.snapshot(), RETAINED_AFTER_CLEANUP, cid)


def test_the_debug_menu_offers_every_defect(make_window: Any) -> None:
    window = make_window()
    texts = [a.text() for a in window.debug_menu.actions()]
    assert texts == ["Leak a worker past its owner", "Let the cache grow without bound",
                     "Block the GUI thread for 3 s", "Raise inside a cleanup callback",
                     "Keep a thumbnail alive after cleanup"]
    growth = window.debug_menu.actions()[1]
    assert growth.isCheckable()
    growth.setChecked(True)
    assert window.debug.growing_cache is not None
    growth.setChecked(False)
    assert window.debug.growing_cache is None
