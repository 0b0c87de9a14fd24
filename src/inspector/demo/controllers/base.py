"""What the demo's controllers share: a coordinator for workers and thumbnails, job running.

A controller owns its workers and what they produce through its coordinator, and keeps only
resource ids itself (a lambda that captures an object keeps it alive; an id cannot).
Workers report to the controller through queued signals; the controller re-emits what its
tab shows, so a tab never sees a worker.
"""

from __future__ import annotations

import itertools
import weakref
from typing import ClassVar, TypedDict, cast

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage

from inspector.resources import (
    BaseController,
    IResourceManagementService,
    ResourceHandle,
    UIResourceCoordinator,
    WorkerResourceCoordinator,
)

from ..cache import CacheEntry, ThumbnailCache
from ..dataset import Dataset
from ..workers import DemoWorker, JobOutcome, Status

#: Worker signals cross threads: say so, rather than rely on AutoConnection guessing right.
QUEUED = Qt.ConnectionType.QueuedConnection


class DemoCoordinator(WorkerResourceCoordinator, UIResourceCoordinator):
    """A coordinator for a controller that runs workers and keeps thumbnails and caches.

    Cleanup stops the workers first (the worker coordinator's priority), then releases the
    rest, running each resource's cleanup (a cache empties itself).
    """


class TrackedThumbnails:
    """A :class:`ThumbnailCache` whose every entry its owner's coordinator tracks.

    Putting a thumbnail tracks it as a THUMBNAIL with its size; an evicted one is released
    at once. The cache itself is not a resource: it lives as long as its owner. But when the
    owner is cleaned up the cache must let go of its images, or the inspector would rightly
    report them as ``retained_after_cleanup``; so the cache empties itself in a cleanup
    callback of the owner's.
    """

    #: After the owner's workers have stopped (20), before the rest is released (10).
    cleanup_priority = 15

    def __init__(self, owner: JobController, *, max_entries: int, max_bytes: int) -> None:
        self._owner = weakref.ref(owner)  # the owner holds us: no cycle through it
        self._coordinator = owner.resources
        self.cache = ThumbnailCache(max_entries, max_bytes)
        self._armed = False

    def add(self, key: str, image: QImage) -> list[str]:
        """Cache and track ``image`` under ``key``; return the keys evicted to make room."""
        self._arm()
        size = int(image.sizeInBytes())
        handle = self._coordinator.track_thumbnail(key, image, size)
        evicted = self.cache.put(CacheEntry(key, image, size, handle.resource_id))
        for entry in evicted:
            self._coordinator.release(entry.resource_id)
        return [e.key for e in evicted if e.key != key]

    def clear(self) -> int:
        """Empty the cache and release its thumbnails; return how many were dropped."""
        entries = self.cache.clear()
        for entry in entries:
            self._coordinator.release(entry.resource_id)
        return len(entries)

    def _arm(self) -> None:
        # Cleanup callbacks are one-shot: armed again by the first thumbnail after a cleanup.
        owner = self._owner()
        if self._armed or owner is None:
            return
        # A bound method: the service holds it weakly, so it keeps nothing alive.
        self._coordinator.service.register_cleanup(owner, self._on_owner_cleanup,
                                                   self.cleanup_priority)
        self._armed = True

    def _on_owner_cleanup(self) -> None:
        self._armed = False
        self.cache.clear()  # the coordinator releases the thumbnails' ids itself


class JobOptions(TypedDict, total=False):
    """The keyword options every :class:`JobController` takes (subclasses pass them on)."""

    io_delay_s: float
    component_id: str | None
    service: IResourceManagementService | None
    parent: QObject | None


class JobController(BaseController):
    """Base of the demo's controllers: runs workers it owns, one job at a time by default.

    ``io_delay_s`` is passed to every worker (a simulated slow evidence drive). A job's
    progress, its end and whether the controller is busy are signals a tab can show.
    """

    #: Percent done (0-100) and what is being worked on, from the running worker.
    progress = Signal(int, str)
    #: True when the first job starts, False when the last one ends.
    busy_changed = Signal(bool)
    #: The :class:`~inspector.demo.workers.JobOutcome` of every job that ended.
    job_finished = Signal(object)

    #: How long a cleanup waits for this controller's workers to stop.
    stop_timeout_ms: ClassVar[int] = 2000

    _job_numbers: ClassVar[itertools.count[int]] = itertools.count(1)

    def __init__(
        self,
        dataset: Dataset,
        *,
        io_delay_s: float = 0.0,
        component_id: str | None = None,
        service: IResourceManagementService | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(component_id, service=service, parent=parent)
        self.dataset = dataset
        self.io_delay_s = io_delay_s
        # Handles hold their workers weakly: the coordinator owns the workers, not us.
        self._jobs: dict[str, ResourceHandle] = {}

    def _create_resource_coordinator(
        self, component_id: str, service: IResourceManagementService | None
    ) -> DemoCoordinator:
        return DemoCoordinator(component_id, service, stop_timeout_ms=self.stop_timeout_ms)

    @property
    def resources(self) -> DemoCoordinator:
        """The coordinator through which this controller owns workers and thumbnails."""
        return cast(DemoCoordinator, self._resources)

    @property
    def busy(self) -> bool:
        """Whether a job of this controller is running."""
        return bool(self._jobs)

    def cancel(self) -> bool:
        """Ask every running job to stop; its outcome (``cancelled``) follows. False if idle."""
        for handle in list(self._jobs.values()):
            worker = handle.resource_ref()
            if worker is not None:
                worker.cancel()
        return bool(self._jobs)

    def cleanup(self) -> int:
        """Stop the workers, release everything, and forget the jobs; return how many
        resources were released. Each job stopped here is reported as cancelled at once; its
        worker's own outcome, arriving later, is ignored.
        """
        released = super().cleanup()
        stopped = list(self._jobs)
        self._jobs.clear()
        for job_id in stopped:
            self.job_finished.emit(JobOutcome(job_id, Status.CANCELLED,
                                              error="stopped by cleanup"))
        if stopped:
            self.busy_changed.emit(False)
        return released

    def _launch(self, worker: DemoWorker, name: str) -> str:
        """Track ``worker``, wire its signals and start it; return its job (resource) id."""
        number = next(self._job_numbers)
        handle = self.resources.track_worker(worker, name=f"{name}#{number}")
        worker.job_id = handle.resource_id
        worker.progress.connect(self.progress, QUEUED)
        worker.outcome.connect(self._on_outcome, QUEUED)
        was_idle = not self._jobs
        self._jobs[handle.resource_id] = handle
        worker.start()
        if was_idle:
            self.busy_changed.emit(True)
        return handle.resource_id

    @Slot(object)
    def _on_outcome(self, outcome: JobOutcome) -> None:
        handle = self._jobs.pop(outcome.job_id, None)
        if handle is None:  # stopped by a cleanup: its resources are already released
            return
        worker = handle.resource_ref()
        if worker is not None:
            # `outcome` is the worker's last signal, emitted microseconds before its thread
            # ends; wait for that end, since a QThread must never be dropped while it runs.
            worker.wait(1000)
        self.resources.release(outcome.job_id)
        self._job_ended(outcome)
        self.job_finished.emit(outcome)
        if not self._jobs:
            self.busy_changed.emit(False)

    def _job_ended(self, outcome: JobOutcome) -> None:
        """Hook: a job of this controller ended (before ``job_finished`` is emitted)."""
