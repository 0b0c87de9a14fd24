"""The store's Qt bridge protocol: the Qt-free bridge, the Qt one, and telling a worker runs."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject

from inspector.resources._qt import QtBridge
from inspector.resources.bridge import PlainBridge, QtLink, can_tell_running, is_running


def test_the_plain_bridge_sees_no_qobjects_and_runs_calls_now() -> None:
    bridge: QtLink = PlainBridge(lambda address: None)
    obj = QObject()
    assert not bridge.is_qobject(obj)
    assert bridge.known_types[QObject] is False
    assert bridge.is_valid(obj)
    ran: list[int] = []
    assert bridge.call_at_home(None, lambda: ran.append(1))
    assert ran == [1]
    with pytest.raises(TypeError):
        bridge.watch(obj)


@pytest.mark.parametrize("light_limit", [0, 1], ids=["shared slot", "closure"])
def test_the_qt_bridge_reports_a_watched_qobjects_address_when_it_dies(
        qapp: object, light_limit: int) -> None:
    dead: list[int] = []
    bridge: QtLink = QtBridge(dead.append, light_limit=light_limit)
    obj = QObject()
    assert bridge.is_qobject(obj)
    assert not bridge.is_qobject(object())
    address = bridge.watch(obj)
    assert address == bridge.address(obj)
    del obj
    assert dead == [address]


def test_is_running_reads_threads_and_says_no_for_what_cannot_tell() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    assert can_tell_running(thread)
    assert not is_running(thread)
    thread.start()
    try:
        assert is_running(thread)
    finally:
        release.set()
        thread.join(5)
    assert not is_running(thread)
    assert not can_tell_running(object())
    assert not is_running(object())


def test_past_its_limit_the_bridge_watches_through_the_slot_and_every_death_is_heard(
        qapp: object) -> None:
    # Two closures, then the shared slot; a closure that fired frees its place again. The
    # deaths come from worker threads as well as this one, in both ways.
    dead: list[int] = []
    bridge = QtBridge(dead.append, light_limit=2)
    objects = [QObject() for _ in range(5)]
    addresses = [bridge.watch(obj) for obj in objects]
    assert dead == []
    assert bridge._light == 2  # closures waiting (white-box: which way each is heard)
    doomed = [objects.pop(), objects.pop(0)]  # one through the slot, one through a closure
    worker = threading.Thread(target=doomed.clear)
    worker.start()
    worker.join(10)
    assert sorted(dead) == sorted([addresses[4], addresses[0]])
    assert bridge._light == 1
    replacement = QObject()
    addresses.append(bridge.watch(replacement))  # in the place the closure left
    assert bridge._light == 2
    objects.append(replacement)
    del replacement
    objects.clear()
    assert sorted(dead) == sorted(addresses)
    assert bridge._light == 0


def test_a_watch_from_another_thread_goes_through_the_slot(qapp: object) -> None:
    dead: list[int] = []
    bridge = QtBridge(dead.append, light_limit=10)
    objects = [QObject()]
    got: list[int] = []
    worker = threading.Thread(target=lambda: got.append(bridge.watch(objects[0])))
    worker.start()
    worker.join(10)
    assert bridge._light == 0  # no closure was connected off the main thread
    objects.clear()
    assert dead == got
