"""The holding area for workers that outlived their owners' cleanup.

Deleting a QThread that still runs aborts the process, so a worker that will not stop within
its coordinator's timeout is held here, not dropped, until it finishes. The inspector reports
such a worker as an ``orphan_worker``; the periodic cleanup and every read let go of the ones
that have finished.
"""

from __future__ import annotations

import threading
from typing import Any

from ._qt import is_running

_lock = threading.Lock()
_held: list[Any] = []
_terminated = threading.Event()


def note_terminated() -> None:
    """Remember that a thread was terminated: its Python thread state may dangle now."""
    _terminated.set()


def thread_was_terminated() -> bool:
    """Whether any worker was ``terminate()``-d in this process.

    After that, walking other threads' frames can crash CPython, so the inspector stops
    reading them (see inspector.metrics.stacks).
    """
    return _terminated.is_set()


def orphaned_workers() -> list[Any]:
    """Workers whose owners were cleaned up while they still ran, and that run still."""
    with _lock:
        _held[:] = [w for w in _held if is_running(w)]
        return list(_held)


def hand_over(worker: Any) -> None:
    """Hold ``worker`` until it finishes."""
    with _lock:
        _held[:] = [w for w in _held if is_running(w)]
        _held.append(worker)
