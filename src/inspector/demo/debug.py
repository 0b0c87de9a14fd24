"""The Debug menu: defects planted on purpose, so a newcomer sees each diagnosis happen.

Each defect is the kind of bug the inspector exists to find, planted by a small controller of
its own so that the snapshot names its owner:

* **Leak a worker past its owner** - a worker that ignores ``cancel()``; its controller is
  deleted while it runs. The coordinator cannot stop it and must not destroy a running
  QThread, so it is orphaned: ``orphan_worker``.
* **Let the cache grow without bound** - a controller adds a thumbnail every 200 ms and
  never evicts: ``growth``.
* **Block the GUI thread** - a slot that sleeps for 3 s: event-loop lag, and the GUI
  thread's stack, read from another thread while it sleeps.
* **Raise inside a cleanup callback** - a teardown step that raises: the teardown audit
  records the error, and the other steps still run.
* **Keep a thumbnail alive after cleanup** - a module-level list keeps a thumbnail its
  owner released: ``retained_after_cleanup``.

:meth:`DefectPlanter.shutdown` undoes them all (a stubborn worker is finally let go).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import ClassVar

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QMenu

from inspector.resources import (
    BaseController,
    IResourceManagementService,
    ResourceType,
    UIResourceCoordinator,
)

from .controllers.base import JobController
from .dataset import Dataset, draw_exhibit
from .workers import DemoWorker

log = logging.getLogger("inspector.demo")

#: How often the unbounded cache grows.
GROWTH_INTERVAL_MS = 200
#: How long a leaked worker runs at most if nobody lets it go.
STUBBORN_LIFETIME_S = 120.0

# The "Keep a thumbnail alive" defect: a module-level list nobody ever empties (until the
# planter's shutdown, which the real bug would not have).
_KEEPSAKES: list[QImage] = []
# Let every stubborn worker finish (set at shutdown): they ignore cancel() on purpose.
_LET_GO = threading.Event()


class StubbornWorker(DemoWorker):
    """A worker that ignores ``cancel()`` and ``requestInterruption()``.

    It stops only when :func:`let_stubborn_workers_go` is called or after ``lifetime_s``.
    """

    def __init__(self, lifetime_s: float = STUBBORN_LIFETIME_S) -> None:
        super().__init__()
        self.lifetime_s = lifetime_s

    def work(self) -> None:
        deadline = time.monotonic() + self.lifetime_s
        # The planted bug: the loop never looks at self.cancel_requested.
        while not _LET_GO.wait(0.05) and time.monotonic() < deadline:
            pass


def let_stubborn_workers_go() -> None:
    """End every :class:`StubbornWorker` (they ignore cancellation; this they obey)."""
    _LET_GO.set()


class LeakyWorkerController(JobController):
    """Runs a :class:`StubbornWorker`; gives it only 250 ms to stop when cleaned up."""

    stop_timeout_ms: ClassVar[int] = 250

    def start(self, lifetime_s: float = STUBBORN_LIFETIME_S) -> str:
        """Start the stubborn worker; return its job id."""
        return self._launch(StubbornWorker(lifetime_s), "stubborn")


class UnboundedCacheController(BaseController):
    """Adds a thumbnail to a list every 200 ms and never evicts one (the planted bug)."""

    def __init__(self, *, service: IResourceManagementService | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(service=service, parent=parent)
        self._frames: list[QImage] = []
        self._rng = random.Random(7)
        # The list can't be weakly referenced, so the service holds it until released;
        # its cleanup empties it, so the thumbnails go with the cleanup.
        self.resources.track(self._frames, ResourceType.CACHE, name="frames",
                             cleanup=_clear_list)
        self._timer = QTimer(self)
        self._timer.setInterval(GROWTH_INTERVAL_MS)
        self._timer.timeout.connect(self._grow)
        self.resources.track_timer(self._timer, name="grow")

    def _create_resource_coordinator(
        self, component_id: str, service: IResourceManagementService | None
    ) -> UIResourceCoordinator:
        return UIResourceCoordinator(component_id, service)

    @property
    def resources(self) -> UIResourceCoordinator:
        """The coordinator (with thumbnail and timer helpers)."""
        coordinator = self._resources
        assert isinstance(coordinator, UIResourceCoordinator)
        return coordinator

    def start(self) -> None:
        """Start growing."""
        self._timer.start()

    @property
    def frames(self) -> int:
        """Thumbnails added so far (none is ever evicted)."""
        return len(self._frames)

    @Slot()
    def _grow(self) -> None:
        image = draw_exhibit(96, 72, len(self._frames) + 1, self._rng)
        self.resources.track_thumbnail(f"frame-{len(self._frames) + 1}", image)
        self._frames.append(image)


def _clear_list(items: list[QImage]) -> None:
    items.clear()


class FlakyTeardownController(BaseController):
    """Owns a scratch buffer and has a teardown step that raises (the planted bug)."""

    def __init__(self, *, service: IResourceManagementService | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(service=service, parent=parent)
        self._scratch = bytearray(64 * 1024)
        self.resources.track(self._scratch, ResourceType.MEMORY, name="scratch",
                             size_bytes=len(self._scratch))
        # Registered with the service directly (not through the coordinator, which would
        # catch and log the error itself): the teardown audit shows what raised, and where.
        self.resources.service.register_cleanup(self, self.flush_journal, priority=5)

    def flush_journal(self) -> None:
        """The teardown step that fails."""
        raise OSError("planted: could not flush the case journal (disk full)")


class RetainingController(BaseController):
    """Makes a thumbnail and lets a module-level list keep it (the planted bug)."""

    def __init__(self, *, service: IResourceManagementService | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(service=service, parent=parent)
        image = draw_exhibit(128, 96, 99, random.Random(99))
        handle = self.resources.track(image, ResourceType.THUMBNAIL, name="keepsake",
                                      size_bytes=int(image.sizeInBytes()))
        self.resource_id = handle.resource_id
        _KEEPSAKES.append(image)


class DefectPlanter(QObject):
    """Plants the defects, remembers their owners, and undoes them at :meth:`shutdown`.

    Every ``plant`` method returns the owning component's id, as the snapshot reports it.
    """

    #: A defect was planted: its name and its owner's component id.
    planted = Signal(str, str)

    def __init__(self, dataset: Dataset, *, service: IResourceManagementService | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dataset = dataset
        self._service = service
        self._growing: UnboundedCacheController | None = None
        self.growth_action: QAction | None = None

    # -- the defects ------------------------------------------------------------------------

    def leak_worker(self, lifetime_s: float = STUBBORN_LIFETIME_S) -> str:
        """Start a worker that ignores cancel, then delete its controller while it runs."""
        _LET_GO.clear()  # a previous shutdown let the old ones go; this one must stick
        controller = LeakyWorkerController(self._dataset, service=self._service)
        controller.start(lifetime_s)
        cid = controller.component_id
        # The bug being demonstrated: the owner is deleted, not shut down. Deleting it now
        # (not at the next event-loop turn) runs its coordinator's cleanup right here; it
        # gives the worker 250 ms, then keeps it running as an orphan rather than destroy a
        # running thread.
        shiboken6.delete(controller)
        del controller
        self.planted.emit("orphan_worker", cid)
        return cid

    def start_growing_cache(self) -> str:
        """Start (or keep) the cache that grows every 200 ms; return its owner's id."""
        if self._growing is None:
            self._growing = UnboundedCacheController(service=self._service, parent=self)
            self._growing.start()
            self.planted.emit("growth", self._growing.component_id)
        self._sync_growth_action()
        return self._growing.component_id

    def stop_growing_cache(self) -> int:
        """Stop it and let its thumbnails go; return how many resources that released."""
        growing, self._growing = self._growing, None
        released = 0
        if growing is not None:
            released = growing.cleanup()
            growing.setParent(None)
            growing.deleteLater()
        self._sync_growth_action()
        return released

    @property
    def growing_cache(self) -> UnboundedCacheController | None:
        """The growing cache's controller while it runs."""
        return self._growing

    def block_gui(self, seconds: float = 3.0) -> None:
        """Sleep in the GUI thread: the event loop stops turning for ``seconds``."""
        time.sleep(seconds)

    def raise_in_cleanup(self) -> str:
        """Clean up a controller whose teardown step raises; return its id."""
        controller = FlakyTeardownController(service=self._service)
        cid = controller.component_id
        controller.cleanup()  # logs the error; the audit keeps it; the buffer is released
        shiboken6.delete(controller)
        self.planted.emit("teardown_error", cid)
        return cid

    def retain_thumbnail(self) -> str:
        """Clean up and delete a controller whose thumbnail a global list keeps; its id."""
        controller = RetainingController(service=self._service)
        cid = controller.component_id
        controller.cleanup()
        shiboken6.delete(controller)
        self.planted.emit("retained_after_cleanup", cid)
        return cid

    # -- the menu ---------------------------------------------------------------------------

    def build_menu(self, menu: QMenu) -> None:
        """Add one action per defect to ``menu`` (the window's Debug menu)."""
        menu.setToolTipsVisible(True)
        self._action(menu, "Leak a worker past its owner",
                     "A worker ignores cancel; its controller is deleted → orphan_worker"
                     ).triggered.connect(self._on_leak_worker)
        self.growth_action = self._action(
            menu, "Let the cache grow without bound",
            "A thumbnail every 200 ms, never evicted → growth (untick to stop)")
        self.growth_action.setCheckable(True)
        self.growth_action.toggled.connect(self._on_growth_toggled)
        self._action(menu, "Block the GUI thread for 3 s",
                     "time.sleep(3) in a slot → event-loop lag, with the GUI stack"
                     ).triggered.connect(self._on_block_gui)
        self._action(menu, "Raise inside a cleanup callback",
                     "A teardown step raises → the teardown audit shows the error"
                     ).triggered.connect(self._on_raise_in_cleanup)
        self._action(menu, "Keep a thumbnail alive after cleanup",
                     "A global list keeps a released thumbnail → retained_after_cleanup"
                     ).triggered.connect(self._on_retain_thumbnail)

    @staticmethod
    def _action(menu: QMenu, text: str, tip: str) -> QAction:
        action = menu.addAction(text)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        return action

    # Argument-free slots: `triggered` passes `checked`, which the plant methods must not get.

    @Slot()
    def _on_leak_worker(self) -> None:
        self.leak_worker()

    @Slot()
    def _on_block_gui(self) -> None:
        self.block_gui(3.0)

    @Slot()
    def _on_raise_in_cleanup(self) -> None:
        self.raise_in_cleanup()

    @Slot()
    def _on_retain_thumbnail(self) -> None:
        self.retain_thumbnail()

    @Slot(bool)
    def _on_growth_toggled(self, on: bool) -> None:
        if on:
            self.start_growing_cache()
        else:
            self.stop_growing_cache()

    def _sync_growth_action(self) -> None:
        action = self.growth_action
        if action is not None and action.isChecked() != (self._growing is not None):
            action.blockSignals(True)
            action.setChecked(self._growing is not None)
            action.blockSignals(False)

    # -- undo -------------------------------------------------------------------------------

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Undo every defect: stop the growth, end the stubborn workers, drop keepsakes."""
        self.stop_growing_cache()
        let_stubborn_workers_go()
        from inspector.resources import orphaned_workers

        deadline = time.monotonic() + timeout_s
        for worker in orphaned_workers():
            if isinstance(worker, StubbornWorker):
                worker.wait(max(0, int((deadline - time.monotonic()) * 1000)))
        orphaned_workers()  # prunes the holding area of the workers that just ended
        _KEEPSAKES.clear()


__all__ = [
    "DefectPlanter",
    "FlakyTeardownController",
    "LeakyWorkerController",
    "RetainingController",
    "StubbornWorker",
    "UnboundedCacheController",
    "let_stubborn_workers_go",
]
