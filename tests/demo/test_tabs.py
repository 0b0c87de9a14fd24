"""The demo's tabs and controllers with real QThreads: jobs finish, cancel, and clean up."""

from __future__ import annotations

import gc
import hashlib
import json
import time
from typing import Any

from PySide6.QtGui import QAction

from inspector.demo.controllers import (
    ForensicWorkflowController,
    HashController,
    MediaAnalysisController,
    Step,
)
from inspector.demo.dataset import Dataset
from inspector.demo.tabs import CopyVerifyTab, HashingTab, MediaAnalysisTab, WorkflowTab
from inspector.demo.workers import JobOutcome, Status
from inspector.metrics.model import MetricsModel
from inspector.resources import ResourceManagementService, ResourceType

from .conftest import FAST, case_files, flush_deletes, wait_for


def outcomes_of(controller: Any) -> list[JobOutcome]:
    """A list that fills with the controller's job outcomes."""
    seen: list[JobOutcome] = []
    controller.job_finished.connect(seen.append)
    return seen


def test_the_window_opens_closes_and_reopens_tabs(make_window: Any,
                                                  service: ResourceManagementService) -> None:
    window = make_window(open_tabs=True)
    assert window.open_tabs() == ["media", "hashing", "copy", "workflow"]
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Media Analysis", "Hashing", "Copy && Verify", "Forensic Workflow"]
    old_id = window.tab("hashing").controller.component_id
    assert old_id in service.get_statistics()["by_component"]

    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(window.tab("hashing")))
    flush_deletes()
    assert window.tab("hashing") is None
    assert window.tabs.count() == 3
    assert old_id not in service.get_statistics()["by_component"]  # deleted with its tab

    reopen = next(a for a in window.findChildren(QAction) if a.data() == "hashing")
    reopen.trigger()
    tab = window.tab("hashing")
    assert isinstance(tab, HashingTab)
    assert window.tabs.currentWidget() is tab
    assert tab.controller.component_id != old_id


def test_every_job_completes_with_correct_results(make_window: Any, dataset: Dataset,
                                                  service: ResourceManagementService) -> None:
    window = make_window()
    media, hashing = window.open_tab("media"), window.open_tab("hashing")
    copy, workflow = window.open_tab("copy"), window.open_tab("workflow")
    assert isinstance(media, MediaAnalysisTab)
    assert isinstance(hashing, HashingTab)
    assert isinstance(copy, CopyVerifyTab)
    assert isinstance(workflow, WorkflowTab)
    hashing.algorithm_boxes["sha1"].setChecked(True)
    finished: list[tuple[str, str]] = []
    workflow.workflow.workflow_finished.connect(lambda s, d: finished.append((s, d)))
    seen = {tab: outcomes_of(tab.controller) for tab in (media, hashing, copy)}

    for tab in (media, hashing, copy, workflow):
        assert tab.start(), tab.status_label.text()
    wait_for(lambda: all(seen.values()) and finished, timeout=20)

    assert [o.status for o in seen[media]] == [Status.DONE]
    # Hashing: every file, every ticked algorithm, as hashlib computes them.
    hasher = hashing.hasher
    assert isinstance(hasher, HashController)
    assert set(hasher.results) == {str(p) for p in dataset.paths}
    for path in dataset.paths:
        data = path.read_bytes()
        assert hasher.results[str(path)] == {
            "md5": hashlib.md5(data).hexdigest(), "sha1": hashlib.sha1(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest()}
    assert hashing.table.rowCount() == len(dataset.paths)
    # Copy & verify: identical copies, every one verified.
    report = copy.copier.last_report
    assert report is not None
    assert report.all_ok
    assert len(report.copies) == len(dataset.paths)
    assert copy.copier.destination is not None
    assert case_files(copy.copier.destination) == {p.name: p.read_bytes()
                                                  for p in dataset.paths}
    # The workflow ran its four steps and wrote a report of verified copies.
    assert finished == [(Status.DONE, str(workflow.workflow.report_path))]
    assert [workflow.steps.item(i).text() for i in range(4)] == [
        f"{step}: done" for step in Step]
    written = json.loads(workflow.workflow.report_path.read_text())  # type: ignore[union-attr]
    assert all(f["copy_verified"] and f["digest"] for f in written["files"])
    assert written["thumbnails"] == len(dataset.images)
    # No worker left running or tracked; the thumbnails are tracked with their sizes.
    assert not any(w.running for w in service.workers())
    stats = service.get_statistics()["by_type"]
    assert stats["worker"]["live"] == 0
    assert stats["worker"]["created"] == 6
    cache = media.media.thumbnails.cache
    gallery = workflow.workflow.gallery.cache
    assert stats["thumbnail"]["live"] == len(cache) + len(gallery)
    assert stats["thumbnail"]["bytes"] == cache.size_bytes + gallery.size_bytes


def test_a_running_job_can_be_cancelled(make_window: Any,
                                        service: ResourceManagementService) -> None:
    window = make_window(io_delay_s=0.2)  # slow enough to be caught running
    tab = window.open_tab("copy")
    seen = outcomes_of(tab.controller)
    assert tab.start()
    wait_for(lambda: any(w.running for w in service.workers()))
    assert tab.cancel_button.isEnabled()
    assert not tab.start_button.isEnabled()

    tab.cancel_button.click()
    wait_for(lambda: seen, timeout=3)
    assert [o.status for o in seen] == [Status.CANCELLED]
    assert tab.status_label.text() == "Cancelled."
    assert tab.start_button.isEnabled()
    assert service.get_statistics()["by_type"]["worker"]["live"] == 0
    # A cancelled copy leaves no partial file behind.
    destination = tab.copier.destination
    assert destination is not None
    sources = {p.name: p.stat().st_size for p in tab.controller.dataset.paths}
    for copied in destination.iterdir():
        assert copied.stat().st_size == sources[copied.name]


def test_closing_every_tab_stops_its_workers_and_leaves_nothing_tracked(
        make_window: Any, service: ResourceManagementService, model: MetricsModel) -> None:
    window = make_window(io_delay_s=0.05, open_tabs=True)
    media = window.tab("media")
    assert isinstance(media, MediaAnalysisTab)
    media.start()  # the first thumbnails arrive before anything is slow
    wait_for(lambda: not media.controller.busy, timeout=10)
    for key in ("hashing", "copy", "workflow", "media"):
        window.tab(key).start()
    wait_for(lambda: sum(w.running for w in service.workers()) >= 3)
    ids = [c.component_id for c in window.controllers()]
    before = model.snapshot()
    assert sum(c.live for c in before.components if c.id in ids) > 0

    released = window.close_all_tabs()

    assert released > 0
    assert window.tabs.count() == 0
    assert not any(w.running for w in service.workers())
    after = model.snapshot()
    assert sum(c.live for c in after.components if c.id in ids) == 0
    assert after.live_resources == 0
    assert after.created_total == after.destroyed_total
    flush_deletes()
    assert not set(ids) & set(service.get_statistics()["by_component"])
    # Nothing they owned stays alive: no suspect once the retention threshold has passed and
    # a full collection ran (a worker in a reference cycle is only pending until one does).
    later = time.monotonic() + FAST.retained_after_s + 0.3
    wait_for(lambda: time.monotonic() > later)
    gc.collect()
    assert model.snapshot().leak_suspects == []


def test_the_thumbnail_cache_is_bounded_and_releases_what_it_evicts(
        dataset: Dataset, service: ResourceManagementService) -> None:
    controller = MediaAnalysisController(dataset, cache_entries=3, service=service)
    evicted: list[str] = []
    controller.thumbnail_evicted.connect(evicted.append)
    seen = outcomes_of(controller)
    try:
        assert controller.start(64)
        wait_for(lambda: seen)
        cache = controller.thumbnails.cache
        assert len(cache) == 3
        assert len(evicted) == len(dataset.images) - 3
        assert [k.rpartition("/")[2] for k in cache.ordered_keys()] == [
            f"{p.name}@64" for p in dataset.images[-3:]]
        stats = service.get_statistics()
        assert stats["by_type"]["thumbnail"] == {
            "live": 3, "created": len(dataset.images), "destroyed": len(dataset.images) - 3,
            "bytes": cache.size_bytes}
        assert controller.cleanup() == 3
        assert len(cache) == 0  # emptied by the cleanup: no image outlives it
        assert service.get_statistics()["live_resources"] == 0
        assert service.watched() == []
        # The controller lives on after a cleanup, and can work again.
        seen.clear()
        assert controller.start(48)
        wait_for(lambda: seen)
        assert len(controller.thumbnails.cache) == 3
        assert controller.cleanup() == 3
        assert len(cache) == 0
    finally:
        controller.cleanup()


def test_the_workflow_stops_its_chain_when_cleaned_up(dataset: Dataset,
                                                      service: ResourceManagementService
                                                      ) -> None:
    controller = ForensicWorkflowController(dataset, io_delay_s=0.1, service=service)
    steps: list[tuple[str, str]] = []
    controller.step_changed.connect(lambda step, state: steps.append((step, state)))
    assert controller.start()
    assert controller.step is Step.HASH
    assert controller.busy
    assert not controller.start()  # one job at a time

    assert controller.cleanup() >= 1
    assert controller.step is None
    assert not controller.busy
    assert steps == [(Step.HASH, "running"), (Step.HASH, Status.CANCELLED)]
    assert not any(w.running for w in service.workers())
    assert service.get_statistics()["live_resources"] == 0
    assert ResourceType.WORKER.value in service.get_statistics()["by_type"]
