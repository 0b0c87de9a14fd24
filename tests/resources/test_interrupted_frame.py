"""The interrupted-frame rule (docs/architecture.md): a collected or destroyed owner's cleanup
never runs inside the frame that dropped it, which may hold a lock the cleanup needs.

Each case drops an owner while holding a plain ``threading.Lock`` that its cleanup takes.
Run inside the drop, the cleanup would deadlock on it (it tries for a bounded time instead,
and records that it could not get it); deferred to the event loop, it takes the lock once
the dropping code has released it. Another has the collection run inside a buffered
stream's flush, and the cleanup print to that stream.
"""

from __future__ import annotations

import gc
import io
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject

from inspector.resources import BaseResourceCoordinator, ResourceManagementService, ResourceType
from inspector.resources._qt import run_deferred
from tests.conftest import pump


class Owner:
    """A plain owner."""

    me: Any
    coord: BaseResourceCoordinator


class Thing:
    """A weakly referenceable resource."""


def _taking(lock: threading.Lock, got: list[bool]) -> Callable[..., None]:
    """A cleanup that needs ``lock``: it records whether it got it within a second."""
    def cleanup(*_: object) -> None:
        acquired = lock.acquire(timeout=1.0)
        got.append(acquired)
        if acquired:
            lock.release()

    return cleanup


def _collected_owner(service: ResourceManagementService, cleanup: Callable[..., None],
                     keep: list[object]) -> Callable[[], object]:
    owner = Owner()
    service.register_cleanup(owner, cleanup)
    service.track_resource(owner, ResourceType.CUSTOM, [1])
    owner.me = owner  # a cycle: the collector frees it, inside whatever called it
    del owner
    return gc.collect


def _dropped_coordinator(service: ResourceManagementService, cleanup: Callable[..., None],
                         keep: list[object]) -> Callable[[], object]:
    owner = Owner()
    thing = Thing()
    owner.coord = BaseResourceCoordinator("Held", service).bind_to_component(owner)
    owner.coord.track(thing, cleanup=cleanup)
    keep.append(thing)
    box = [owner]
    del owner
    return box.clear  # the last reference: the owner and its coordinator go by refcount


def _destroyed_child(service: ResourceManagementService, cleanup: Callable[..., None],
                     keep: list[object]) -> Callable[[], object]:
    parent = QObject()
    child = QObject(parent)
    service.register_cleanup(child, cleanup)
    service.track_resource(child, ResourceType.CUSTOM, [1])
    keep.append(child)  # the wrapper lives on; the parent's deletion destroys the C++ child
    return lambda: shiboken6.delete(parent)


DROPS = {"owner collected by gc.collect()": _collected_owner,
         "coordinator dropped with its owner": _dropped_coordinator,
         "qobject owner destroyed by its parent's deletion": _destroyed_child}


@pytest.mark.parametrize("how", list(DROPS))
def test_a_cleanup_needing_a_lock_the_dropping_code_holds_runs_after_it_is_released(
        service: ResourceManagementService, how: str) -> None:
    lock = threading.Lock()
    got: list[bool] = []
    keep: list[object] = []
    drop = DROPS[how](service, _taking(lock, got), keep)
    with lock:  # e.g. a print() holding its buffer's lock, or the application's own lock
        drop()
        assert got == []  # nothing ran inside the frame that dropped the owner
    pump(lambda: bool(got), 5.0)
    assert got == [True]  # ran once the loop turned, and the lock was free by then
    assert service.get_statistics()["live_resources"] == 0


class _CollectingRaw(io.RawIOBase):
    """A raw stream whose next write runs a garbage collection, as an allocation inside a
    buffered writer's flush may: the writer holds its lock meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()
        self.collect_next = False

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        if self.collect_next:
            self.collect_next = False
            gc.collect()
        self.data += bytes(b)
        return len(b)


def test_a_cleanup_printing_to_the_stream_whose_write_was_interrupted_prints_after_it(
        service: ResourceManagementService, caplog: pytest.LogCaptureFixture) -> None:
    # Run inside the collection, the print would raise "reentrant call inside
    # <_io.BufferedWriter>" (logged by the cleanup's guard) and print nothing.
    raw = _CollectingRaw()
    stream = io.TextIOWrapper(io.BufferedWriter(raw), write_through=True)
    drop = _collected_owner(service, lambda: print("cleaned", file=stream, flush=True), [])
    del drop  # gc.collect itself: the stream's flush runs the collection
    stream.write("before\n")
    raw.collect_next = True
    with caplog.at_level(logging.ERROR, logger="inspector.resources"):
        stream.flush()
        assert raw.data == b"before\n"
        pump(lambda: b"cleaned" in raw.data, 5.0)
    assert raw.data == b"before\ncleaned\n"
    assert "reentrant" not in caplog.text


def test_a_cleanup_the_loop_never_reached_runs_once_at_exit(
        service: ResourceManagementService) -> None:
    # The exit clean-up and a late loop turn both reach the deferred cleanup: it runs once.
    ran: list[str] = []
    drop = _collected_owner(service, lambda: ran.append("cleanup"), [])
    drop()
    assert len(service.store._deferred) == 1
    assert ran == []
    service._exit_cleanup()  # what aboutToQuit's after_loop and interpreter exit call
    assert ran == ["cleanup"]
    assert service.store._deferred == {}
    QCoreApplication.sendPostedEvents()  # the posted call arrives now and finds it done
    assert ran == ["cleanup"]


def test_a_dropped_coordinators_cleanup_runs_once_at_exit_if_the_loop_never_does(
        service: ResourceManagementService) -> None:
    # Its owner lives on (as a Qt owner's does while PySide frees its attributes): only the
    # call the coordinator's __del__ recorded can clean its resource up.
    owner, thing = Owner(), Thing()
    closed: list[object] = []
    box = [BaseResourceCoordinator("Alone", service).bind_to_component(owner)]
    box[0].track(thing, cleanup=closed.append)
    box.clear()
    assert closed == []
    assert run_deferred() >= 1  # what the exit clean-up runs first
    assert closed == [thing]
    QCoreApplication.sendPostedEvents()  # the loop's turn, late: nothing left to run
    assert closed == [thing]
    assert service.get_statistics()["live_resources"] == 0
