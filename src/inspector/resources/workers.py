"""Worker coordination: track threads, stop them for real, never destroy a running QThread.

The seed's ``cancel_all_workers`` busy-waited in the GUI thread for ``finished`` signals
queued to that same thread, so it always timed out. Here cancellation is cooperative
(``cancel()`` or ``requestInterruption()``, then ``quit()``) and the wait is on the threads
themselves, against one shared deadline. ``terminate()`` is never called unless the
coordinator was built with ``allow_terminate=True``, and then it is logged.

Deleting a QThread that still runs aborts the process, so the coordinator holds its workers
while they run, and a worker that outlives its owner's cleanup is handed to a process-wide
holding area until it finishes. The inspector reports such a worker as an ``orphan_worker``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from PySide6.QtCore import QCoreApplication

from ._qt import call_at_home
from .bridge import can_tell_running, is_running
from .coordinator import BaseResourceCoordinator, ResourceHandle
from .interfaces import IResourceManagementService
from .orphans import holding_area, note_terminated, orphan_info
from .types import ResourceType

log = logging.getLogger("inspector.resources")

def request_stop(worker: Any) -> None:
    """Ask a worker to stop: its ``cancel()``, else ``requestInterruption()``; then ``quit()``."""
    try:
        cancel = getattr(worker, "cancel", None)
        if callable(cancel):
            cancel()
        else:
            interrupt = getattr(worker, "requestInterruption", None)
            if callable(interrupt):
                interrupt()
        quit_ = getattr(worker, "quit", None)
        if callable(quit_):
            quit_()
    except RuntimeError:  # the C++ thread object is already gone
        pass


def wait_for(worker: Any, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``worker`` to stop; True when it no longer runs."""
    timeout_s = max(0.0, timeout_s)
    try:
        wait = getattr(worker, "wait", None)
        if callable(wait):  # QThread.wait(ms)
            return bool(wait(int(timeout_s * 1000)))
        join = getattr(worker, "join", None)
        if callable(join):  # threading.Thread
            join(timeout_s)
    except RuntimeError:
        return True
    return not is_running(worker)


class WorkerResourceCoordinator(BaseResourceCoordinator):
    """A coordinator for components that own worker threads.

    ``stop_timeout_ms`` bounds how long a cleanup waits for its workers to stop; on the GUI
    thread it waits ``gui_wait_ms`` at most, then holds the workers still stopping until they
    end (reported as orphans meanwhile), so a stuck worker never freezes the GUI.
    ``allow_terminate`` lets a cleanup ``terminate()`` a worker that ignored cancellation: a
    last resort, and a dangerous one for a worker running Python. A thread cancelled while
    it waits for the GIL dies holding the GIL's mutex and the process hangs; one cancelled
    elsewhere leaves its Python thread state behind (the inspector then stops reading
    thread stacks). Only a worker blocked in C++ with the GIL released ends cleanly.
    """

    #: Workers stop before the component's other resources are torn down.
    cleanup_priority = 20

    def __init__(
        self,
        component_id: str,
        service: IResourceManagementService | None = None,
        *,
        stop_timeout_ms: int = 2000,
        allow_terminate: bool = False,
        gui_wait_ms: int = 200,
    ) -> None:
        super().__init__(component_id, service)
        self._workers: dict[str, Any] = {}
        self._stop_timeout_s = stop_timeout_ms / 1000.0
        self._allow_terminate = allow_terminate
        self._gui_wait_s = gui_wait_ms / 1000.0

    def track_worker(
        self,
        worker: Any,
        name: str | None = None,
        cancel_on_cleanup: bool = True,
        *,
        site: str | None = None,
        **metadata: Any,
    ) -> ResourceHandle:
        """Track a worker (a QThread, a threading.Thread, anything with ``isRunning``).

        The coordinator holds the worker while it may run, so it cannot be destroyed
        running; finished workers are let go. ``name`` is shown instead of the id; ``site``
        defaults to the caller's frame.
        """
        handle = self.track(worker, ResourceType.WORKER, name=name or type(worker).__name__,
                            auto_cleanup=False, site=site, **metadata)
        with self._lock:
            # Held only when it can say that it finished: a QRunnable is held by its pool
            # while it runs, and holding it here would keep every finished one alive.
            if cancel_on_cleanup and can_tell_running(worker):
                self._workers[handle.resource_id] = worker
            self._let_go_finished_locked()
        return handle

    def active_workers(self) -> list[ResourceHandle]:
        """Handles of the workers that are running now."""
        with self._lock:
            self._let_go_finished_locked()
            rids = set(self._workers)
        return [h for h in self.handles() if h.resource_id in rids
                and (w := h.resource_ref()) is not None and is_running(w)]

    def cancel_all_workers(self, timeout_ms: int = 5000) -> bool:
        """Stop every running worker within ``timeout_ms``; True when all have stopped."""
        with self._lock:
            workers = [w for w in self._workers.values() if is_running(w)]
        still_running = _stop_all(workers, timeout_ms / 1000.0)
        with self._lock:
            self._let_go_finished_locked()
        return not still_running

    def cleanup_all(self) -> int:
        """Stop the workers (within ``stop_timeout_ms``), then release everything."""
        with self._lock:
            workers = list(self._workers.values())
            rids = {id(w): rid for rid, w in self._workers.items()}
            self._workers.clear()
        running = [w for w in workers if is_running(w)]
        timeout = self._stop_timeout_s
        if not self._allow_terminate and _on_gui_thread():
            # The GUI thread must not freeze for a stuck worker: it is asked to stop, given
            # a moment, and then held (and reported) until it ends, off this thread's back.
            timeout = min(timeout, self._gui_wait_s)
        for worker in _stop_all(running, timeout):  # the ones still running
            if self._allow_terminate:
                log.error("worker %r of %s ignored cancellation; terminating it",
                          worker, self._component_id)
                note_terminated()
                worker.terminate()
                wait_for(worker, 1.0)
            else:
                log.warning("worker %r of %s still runs after %.1f s; it is orphaned",
                            worker, self._component_id, timeout)
                info = orphan_info(self._component_id, rids.get(id(worker), ""), self._service)
                holding_area(self._service).hand_over(worker, info)
        return super().cleanup_all()

    def _let_go_finished_locked(self) -> None:
        self._workers = {rid: w for rid, w in self._workers.items()
                         if is_running(w) or not _has_finished(w)}

    def __del__(self) -> None:
        # Dropped without a cleanup (Python clears an owner's attributes, this coordinator
        # among them, before Qt emits its `destroyed`): the running workers must be asked to
        # stop and held until they do (a running QThread must not be destroyed with us). Not
        # here: asking runs the worker's own cancel() and takes the holding area's lock,
        # inside whatever frame dropped us. The call recorded keeps the workers alive until
        # the main thread's loop runs it, before the other resources' cleanups (posted after
        # it); docs/architecture.md, "The interrupted-frame rule".
        workers = list(getattr(self, "_workers", {}).items())
        self._workers = {}
        if workers:
            try:
                service, component_id = self._service, self._component_id
                call_at_home(self._home,
                             lambda: _hold_dropped(workers, component_id, service))
            except Exception:  # a finaliser must not raise
                log.exception("stopping the workers of a dropped coordinator failed")
        super().__del__()  # the other resources' cleanups (no waiting in a finaliser)


def _hold_dropped(workers: list[tuple[str, Any]], component_id: str, service: Any) -> None:
    """Ask the running ``workers`` of a dropped coordinator to stop, and hold them (with
    what they were tracked as) until they finish."""
    for rid, worker in workers:
        if is_running(worker):
            request_stop(worker)
            try:  # what it was, while the service still tracks it: the inspector says so
                info = orphan_info(component_id, rid, service)
            except Exception:  # noqa: BLE001 - one worker's record must not stop the rest
                info = None
            holding_area(service).hand_over(worker, info)


def _on_gui_thread() -> bool:
    return (threading.current_thread() is threading.main_thread()
            and QCoreApplication.instance() is not None)


def _has_finished(worker: Any) -> bool:
    try:
        finished = getattr(worker, "isFinished", None)
        if callable(finished):
            return bool(finished())
        ident = getattr(worker, "ident", None)  # threading.Thread: started and no longer alive
        return ident is not None and not is_running(worker)
    except RuntimeError:
        return True


def _stop_all(workers: list[Any], timeout_s: float) -> list[Any]:
    """Ask every worker to stop, wait against one shared deadline; return those still running."""
    for worker in workers:
        request_stop(worker)
    deadline = time.monotonic() + timeout_s
    return [w for w in workers if not wait_for(w, deadline - time.monotonic())]
