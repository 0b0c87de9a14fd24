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


def test_the_qt_bridge_reports_a_watched_qobjects_address_when_it_dies(qapp: object) -> None:
    dead: list[int] = []
    bridge: QtLink = QtBridge(dead.append)
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
