"""Freezes over the protocol: ``hangs``, thread naming in ``stacks``, the stall file beside the
socket, and the client's verdict on an application that cannot answer (real sockets, real
QThreads, a real faulthandler watchdog)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

from inspector.errors import ConnectionLost, NotAnswering, RequestTimedOut
from inspector.metrics import MetricsModel
from inspector.metrics.hangs import StallWatchdog, read_stall_file
from inspector.resources import ResourceManagementService, ResourceType
from inspector.server import InspectorServer
from inspector.server.client import InspectorClient
from inspector.server.discovery import remove_stale, socket_dir, stall_for
from tests.server.conftest import wait_for


def pump(seconds: float) -> None:
    app = QCoreApplication.instance()
    assert app is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)


class Looping(QThread):
    """A QThread running Python code until told to stop."""

    def __init__(self) -> None:
        super().__init__()
        self.running_python = threading.Event()

    def run(self) -> None:
        self.running_python.set()
        while not self.isInterruptionRequested():
            self.msleep(5)


@pytest.fixture
def served(service: ResourceManagementService, runtime_dir: Path
           ) -> Iterator[tuple[MetricsModel, InspectorServer]]:
    model = MetricsModel(service, app="freezes")
    model.start()
    server = InspectorServer(model).start()
    yield model, server
    server.close()
    model.close()


def freeze_in_a_named_function() -> None:
    time.sleep(0.4)


def test_hangs_over_the_socket(served: tuple[MetricsModel, InspectorServer]) -> None:
    model, server = served
    pump(0.2)
    before = model.hangs()["count"]
    QTimer.singleShot(0, freeze_in_a_named_function)
    deadline = time.monotonic() + 10
    while model.hangs()["count"] == before and time.monotonic() < deadline:
        pump(0.05)
    with InspectorClient(server.path) as client:
        reply = client.hangs()
    assert reply["count"] == before + 1
    assert reply["threshold_ms"] == 200
    hang = reply["hangs"][-1]
    assert set(hang) == {"started", "duration_ms", "stack", "where", "samples", "native"}
    assert hang["stack"][-1].startswith("freeze_in_a_named_function (")
    assert abs(hang["started"] - time.time()) < 60
    assert reply["max_ms"] >= hang["duration_ms"] >= 300
    assert reply["total_ms"] >= hang["duration_ms"]
    assert reply["by_function"][0]["count"] >= 1


def test_stacks_name_qthreads_and_their_owning_components(
        served: tuple[MetricsModel, InspectorServer], service: ResourceManagementService
) -> None:
    _model, server = served
    owner = QObject()
    service.register_component(owner, "Crawler", "crawler")
    named, anonymous = Looping(), Looping()
    named.setObjectName("crawler-thread")
    for thread in (named, anonymous):
        thread.start()
        assert thread.running_python.wait(5)
    service.track_resource(owner, ResourceType.WORKER, named)
    try:
        with InspectorClient(server.path) as client:
            reply = client.stacks()
    finally:
        for thread in (named, anonymous):
            thread.requestInterruption()
            thread.wait(5000)
    threads = reply["threads"]
    assert threads[0]["gui"]
    assert threads[0]["kind"] == "gui"
    assert reply["gui_thread"] == threading.get_ident()
    by_name = {t["name"]: t for t in threads}
    crawler = by_name["crawler-thread"]
    assert (crawler["kind"], crawler["qthread"], crawler["component"]) == (
        "qthread", "Looping", "Crawler")
    assert crawler["resource_id"]
    assert crawler["stack"][-1].startswith("run (")
    unnamed = [t for t in threads if t["kind"] == "qthread" and t is not crawler]
    assert [t["name"] for t in unnamed] == ["Looping"]  # no objectName: its class
    assert unnamed[0]["component"] == ""


def test_the_stall_file_is_private_beside_the_socket_and_goes_with_it(
        served: tuple[MetricsModel, InspectorServer]) -> None:
    _model, server = served
    path = stall_for(server.path)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    pump(0.4)  # the loop turns; the hang monitor arms the watchdog and writes the header
    report = read_stall_file(path)
    assert report is not None
    assert (report.pid, report.gui_thread, report.gui_name) == (
        os.getpid(), threading.get_ident(), "MainThread")
    assert report.stalled_for() < 1.0
    server.close()
    assert not path.exists()


def test_a_dead_processs_stall_file_is_removed(runtime_dir: Path) -> None:
    directory = socket_dir(runtime_dir)
    directory.mkdir(mode=0o700, parents=True)
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: its pid names no process now
    dead = directory / f"{gone.pid}.stall"
    dead.write_bytes(b"{}")
    assert dead in remove_stale(runtime_dir)
    assert not dead.exists()


# -- the client's verdict -------------------------------------------------------------------------


class SilentServer:
    """Answers ``hello`` like a resinspect server, then reads requests and never answers:
    what a client meets while native code holds an application's GIL."""

    def __init__(self, path: Path) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(1)
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            conn, _ = self.listener.accept()
            self.conns.append(conn)
            line = conn.makefile("rb").readline()
            request = json.loads(line)
            conn.sendall(msgspec.json.encode({"id": request["id"], "result": {
                "app": "silent", "pid": os.getpid(), "protocol": 1}}) + b"\n")

    def close(self) -> None:
        self.listener.close()
        for conn in self.conns:
            conn.close()


@pytest.fixture
def silent(runtime_dir: Path) -> Iterator[Path]:
    directory = socket_dir(runtime_dir)
    directory.mkdir(mode=0o700, parents=True)
    path = directory / f"{os.getpid()}.sock"
    server = SilentServer(path)
    yield path
    server.close()


def stuck_in_native_code(watchdog: StallWatchdog, path: Path) -> Any:
    """Arm the watchdog and do not re-arm it: this thread stands for a stuck GUI thread."""
    watchdog.rearm(time.monotonic())
    assert wait_for(lambda: (r := read_stall_file(path)) is not None and r.fired, timeout=5)
    return read_stall_file(path)


def test_the_client_says_not_answering_within_2_s_when_the_gil_is_held(silent: Path) -> None:
    stall = stall_for(silent)
    # No native id: which thread is on a CPU (the GIL holder, by /proc) is not asked here.
    watchdog = StallWatchdog(stall, threading.get_ident(), "MainThread", None, timeout_s=0.2)
    try:
        report = stuck_in_native_code(watchdog, stall)
        assert report.fired
        assert any(f.startswith("stuck_in_native_code (") for f in report.gui_stack)
        with InspectorClient(silent, timeout=10) as client:
            started = time.monotonic()
            with pytest.raises(NotAnswering) as caught:
                client.snapshot()
            elapsed = time.monotonic() - started
    finally:
        watchdog.close()
    assert 0.4 < elapsed < 2.0
    verdict = str(caught.value)
    assert verdict.startswith("not answering: the GIL is held by a native call on thread "
                              "MainThread since ")
    assert f"last Python frame {report.gui_stack[-1]}" in verdict
    assert caught.value.report is not None


def test_without_a_stall_file_the_client_just_times_out(silent: Path) -> None:
    with InspectorClient(silent, timeout=1.5) as client, pytest.raises(ConnectionLost) as caught:
        client.snapshot()
    assert not isinstance(caught.value, NotAnswering)
    assert isinstance(caught.value, RequestTimedOut)
    assert "no answer" in str(caught.value)


def test_a_heartbeat_that_still_re_arms_is_no_verdict(silent: Path) -> None:
    stall = stall_for(silent)
    watchdog = StallWatchdog(stall, threading.get_ident(), "MainThread", None, timeout_s=0.3)
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(0.1):
            watchdog.rearm(time.monotonic())

    beating = threading.Thread(target=heartbeat)
    beating.start()
    try:
        with InspectorClient(silent, timeout=2.0) as client, \
                pytest.raises(ConnectionLost) as caught:
            client.snapshot()
    finally:
        stop.set()
        beating.join()
        watchdog.close()
    assert not isinstance(caught.value, NotAnswering)
