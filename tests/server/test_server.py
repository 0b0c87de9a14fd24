"""The server with a real MetricsModel over real AF_UNIX sockets and real threads."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from inspector.errors import ConnectionFailed, ConnectionLost, ServerAlreadyRunning
from inspector.metrics import MetricsModel, Snapshot
from inspector.resources import ResourceManagementService, ResourceType
from inspector.server import InspectorServer
from inspector.server.client import InspectorClient
from inspector.server.protocol import INTERNAL_ERROR
from inspector.server.server import SERVER_BUSY

from .conftest import RawConn, wait_for

FRAME = re.compile(r"^\S.* \(.+:\d+\)$")


class Owner:
    """A component."""


class Blob:
    """A resource that can be weakly referenced."""


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _track(service: ResourceManagementService, owner: Owner, cid: str, n: int, *,
           rtype: ResourceType = ResourceType.CACHE, size: int = 100) -> list[Blob]:
    service.register_component(owner, cid)
    blobs = [Blob() for _ in range(n)]
    for b in blobs:
        service.track_resource(owner, rtype, b, size_bytes=size)
    return blobs


# -- methods --------------------------------------------------------------------------------


def test_hello(server: InspectorServer) -> None:
    with InspectorClient(server.path) as client:
        info = client.hello_info
    assert info["app"] == "test-app"
    assert info["pid"] == os.getpid()
    assert info["protocol"] == 1
    assert set(info["versions"]) >= {"python", "PySide6", "resinspect"}
    assert info["versions"]["PySide6"]


def test_snapshot_reflects_the_service(server: InspectorServer,
                                       service: ResourceManagementService) -> None:
    owner = Owner()
    blobs = _track(service, owner, "tab.images", 3, size=1000)
    with InspectorClient(server.path) as client:
        snap = client.snapshot()
    assert isinstance(snap, Snapshot)
    assert (snap.pid, snap.app) == (os.getpid(), "test-app")
    assert snap.live_resources == 3
    assert snap.tracked_bytes == 3000
    assert snap.by_type["cache"].live == 3
    assert [c.id for c in snap.components] == ["tab.images"]
    del blobs


def test_snapshot_reply_is_the_models_json_verbatim(raw: RawConn, model: MetricsModel) -> None:
    raw.request(1, "snapshot")
    line = raw.line()
    assert line.startswith(b'{"id":1,"result":{')
    snap = msgspec.json.decode(line, type=dict[str, Any])["result"]
    assert snap["schema"] == "resinspect.snapshot/1"
    Snapshot.from_dict(snap)
    expected_keys = set(msgspec.json.decode(model.snapshot().to_json()))
    assert set(snap) == expected_keys


def test_resources_are_paged(server: InspectorServer,
                             service: ResourceManagementService) -> None:
    a, b = Owner(), Owner()
    keep = _track(service, a, "a", 7) + _track(service, b, "b", 2, rtype=ResourceType.FILE_HANDLE)
    with InspectorClient(server.path) as client:
        page = client.resources(offset=2, limit=3)
        assert (page.total, page.offset, len(page.items)) == (9, 2, 3)
        everything = client.resources(limit=100)
        assert len({e.resource_id for e in everything.items}) == 9
        only_b = client.resources(component_id="b")
        assert only_b.total == 2
        assert {e.resource_type for e in only_b.items} == {"file_handle"}
        assert client.resources(offset=50).items == []
    del keep


def test_history(server: InspectorServer, model: MetricsModel) -> None:
    model.sample()
    model.sample()
    with InspectorClient(server.path) as client:
        history = client.history()
    assert len(history.t) >= 2
    assert len(history.rss_bytes) == len(history.t)


def _parked(ready: threading.Event, release: threading.Event) -> None:
    ready.set()
    release.wait(10)


def test_stacks_cover_every_thread_and_name_the_main_one(server: InspectorServer) -> None:
    ready, release = threading.Event(), threading.Event()
    helper = threading.Thread(target=_parked, args=(ready, release), name="parked-helper")
    helper.start()
    ready.wait(5)
    try:
        with InspectorClient(server.path) as client:
            stacks = client.stacks()
    finally:
        release.set()
        helper.join()
    threads = {t["name"]: t for t in stacks["threads"]}
    assert stacks["main_thread"] == threading.main_thread().ident
    assert threads["MainThread"]["main"] is True
    assert sum(t["main"] for t in stacks["threads"]) == 1
    assert "resinspect-server" in threads
    parked = threads["parked-helper"]["stack"]
    assert all(FRAME.match(f) for f in parked), parked
    # innermost last: the helper's own function sits above threading's wait machinery
    names = [f.split(" (")[0] for f in parked]
    assert names.index("_parked") < names.index("wait")
    assert names[0] in ("_bootstrap", "run")  # outermost first


# -- subscriptions ----------------------------------------------------------------------------


def test_subscribe_pushes_at_the_interval(server: InspectorServer) -> None:
    with InspectorClient(server.path) as client:
        start = time.monotonic()
        pushes = client.subscribe(0.05)
        snaps = [next(pushes) for _ in range(5)]
        elapsed = time.monotonic() - start
    assert all(s.app == "test-app" for s in snaps)
    assert [s.seq for s in snaps] == sorted(s.seq for s in snaps)
    assert client.last_seq == 5
    assert client.pushes_dropped == 0
    assert 0.15 < elapsed < 2.0  # first push at once, then ~50 ms apart


def test_subscribe_interval_has_a_floor(raw: RawConn) -> None:
    raw.request(1, "subscribe", {"interval": 0.001})
    reply = raw.msg()
    assert reply["result"]["interval"] == 0.05
    t0 = time.monotonic()
    seqs = [raw.msg()["seq"] for _ in range(4)]
    assert seqs == [1, 2, 3, 4]
    assert time.monotonic() - t0 >= 0.14


def test_no_push_follows_the_unsubscribe_reply(raw: RawConn) -> None:
    raw.request(1, "subscribe", {"interval": 0.05})
    assert raw.msg()["id"] == 1
    for _ in range(3):
        assert raw.msg()["method"] == "snapshot"
    raw.request(2, "unsubscribe")
    while True:  # pushes already queued may come first
        msg = raw.msg()
        if msg.get("id") == 2:
            break
        assert msg["method"] == "snapshot"
    assert msg["result"]["unsubscribed"] is True
    raw.sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        raw.sock.recv(1)
    raw.sock.settimeout(5)
    raw.request(3, "hello")  # still a working connection
    assert raw.msg()["id"] == 3


def test_pushes_and_requests_interleave(server: InspectorServer) -> None:
    with InspectorClient(server.path) as client:
        pushes = client.subscribe(0.05)
        next(pushes)
        time.sleep(0.12)  # let pushes queue up while a request is on its way
        assert client.stacks()["threads"]
        assert next(pushes).app == "test-app"
        assert client.unsubscribe() is True
        assert client.unsubscribe() is False


def _many_components(service: ResourceManagementService, n: int) -> list[Owner]:
    owners = [Owner() for _ in range(n)]
    for i, owner in enumerate(owners):
        service.register_component(owner, f"component-with-a-rather-long-name-{i:05d}")
    return owners


def test_a_subscriber_that_falls_behind_gets_gaps_it_can_account_for(
        server: InspectorServer, service: ResourceManagementService) -> None:
    owners = _many_components(service, 3000)  # snapshots of ~0.4 MB: the kernel buffer fills
    raw = RawConn(server.path)
    raw.request(1, "subscribe", {"interval": 0.05})
    assert raw.msg()["id"] == 1
    time.sleep(0.6)  # not reading: pushes fall due while the previous one is still unsent
    pushes = [raw.msg() for _ in range(4)]
    raw.close()
    assert pushes[-1]["dropped"] >= 3
    for before, after in itertools.pairwise(pushes):
        assert after["seq"] - before["seq"] - 1 == after["dropped"] - before["dropped"]
    del owners


# -- isolation between clients ----------------------------------------------------------------


def test_a_client_that_stops_reading_is_dropped_without_stalling_another(
        model: MetricsModel, runtime_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="inspector.server")
    with InspectorServer(model, max_queue=256 * 1024) as srv:
        hog = RawConn(srv.path)
        stop = threading.Event()

        def flood() -> None:  # requests, never a read
            line = b'{"id": 1, "method": "snapshot"}\n' * 200
            try:
                while not stop.is_set():
                    hog.send(line)
            except OSError:
                pass  # dropped by the server: the point

        flooder = threading.Thread(target=flood)
        flooder.start()
        try:
            with InspectorClient(srv.path, timeout=2.0) as good:
                worst = 0.0
                for _ in range(30):
                    t0 = time.monotonic()
                    good.snapshot()
                    worst = max(worst, time.monotonic() - t0)
            assert wait_for(lambda: srv.stats()["dropped"] == 1)
        finally:
            stop.set()
            flooder.join(5)
            hog.close()
    assert worst < 0.5
    assert any("dropped" in r.message and "unsent" in r.message for r in caplog.records)


def test_a_stalled_subscriber_is_dropped(model: MetricsModel, runtime_dir: Path,
                                         service: ResourceManagementService,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="inspector.server")
    owners = _many_components(service, 3000)
    with InspectorServer(model, stall_timeout=0.3) as srv:
        stalled = RawConn(srv.path)
        stalled.request(1, "subscribe", {"interval": 0.05})
        with InspectorClient(srv.path) as other:
            assert wait_for(lambda: srv.stats()["dropped"] == 1, timeout=5)
            assert other.snapshot().app == "test-app"  # the other client never noticed
        stalled.close()
    assert any("accepted no data" in r.message for r in caplog.records)
    del owners


def test_many_clients_at_once(server: InspectorServer) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with InspectorClient(server.path) as client:
                for _ in range(10):
                    assert client.snapshot().pid == os.getpid()
                    assert client.call("hello")["app"] == "test-app"
        except BaseException as exc:  # noqa: BLE001 - the test thread raises it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert server.stats()["accepted"] == 16


def test_connection_cap(model: MetricsModel, runtime_dir: Path) -> None:
    with InspectorServer(model, max_clients=2) as srv:
        first, second = InspectorClient(srv.path), InspectorClient(srv.path)
        # Subscribed clients are busy, never evicted for a newcomer: the third is refused.
        first.subscribe(60.0)
        second.subscribe(60.0)
        third = RawConn(srv.path)  # connect() succeeds (backlog); the server closes it
        # ... after one line that says why, not with a bare reset.
        refusal = third.msg()
        assert refusal["id"] is None
        assert refusal["error"]["code"] == SERVER_BUSY
        assert "too many clients" in refusal["error"]["message"]
        assert third.at_eof()
        assert srv.stats()["refused_full"] == 1
        assert first.snapshot().app == second.snapshot().app == "test-app"
        first.close()
        assert wait_for(lambda: srv.stats()["clients"] == 1)
        with InspectorClient(srv.path) as fourth:  # a freed slot is usable again
            assert fourth.hello_info["pid"] == os.getpid()
        second.close()
        third.close()


def test_half_closed_client_still_gets_its_answers(raw: RawConn) -> None:
    raw.send(b'{"id": 1, "method": "hello"}\n{"id": 2, "method": "snapshot"}\n')
    raw.sock.shutdown(socket.SHUT_WR)
    assert raw.msg()["id"] == 1
    assert raw.msg()["id"] == 2
    assert raw.at_eof()


class _FailingModel:
    app = "failing"

    def snapshot(self) -> Snapshot:
        raise RuntimeError("boom")

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> Any:
        raise RuntimeError("boom")

    def history(self) -> Any:
        raise RuntimeError("boom")


def test_a_failing_model_gives_internal_errors_not_a_dead_server(
        runtime_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="inspector.server")
    with InspectorServer(_FailingModel()) as srv:
        raw = RawConn(srv.path)
        raw.request(1, "snapshot")
        err = raw.msg()["error"]
        assert err["code"] == INTERNAL_ERROR
        assert "boom" in err["message"]
        raw.request(2, "subscribe", {"interval": 0.05})
        assert raw.msg()["id"] == 2
        raw.request(3, "hello")
        assert raw.msg()["result"]["app"] == "failing"
        raw.close()


# -- the frozen application -----------------------------------------------------------------


def test_answers_while_the_main_thread_is_blocked(server: InspectorServer) -> None:
    answered: list[float] = []
    pushed: list[float] = []

    def query() -> None:
        with InspectorClient(server.path) as client:
            for _ in range(5):
                client.snapshot()
                answered.append(time.monotonic())
            client.stacks()
            pushes = client.subscribe(0.05)
            for _ in range(3):
                next(pushes)
                pushed.append(time.monotonic())

    thread = threading.Thread(target=query)
    thread.start()
    time.sleep(1.0)  # the main (GUI) thread is stuck the whole time
    woke = time.monotonic()
    thread.join(5)
    assert len(answered) == 5
    assert len(pushed) == 3
    assert max(answered + pushed) < woke


# -- files, permissions, lifecycle ------------------------------------------------------------


def test_files_and_modes(server: InspectorServer, runtime_dir: Path) -> None:
    directory = runtime_dir / "resinspect"
    assert server.path == directory / f"{os.getpid()}.sock"
    assert server.sidecar_path == directory / f"{os.getpid()}.json"
    assert _mode(directory) == 0o700
    assert stat.S_ISSOCK(os.lstat(server.path).st_mode)
    assert _mode(server.path) == 0o600
    assert _mode(server.sidecar_path) == 0o600
    sidecar = msgspec.json.decode(server.sidecar_path.read_bytes())
    assert sidecar["app"] == "test-app"
    assert sidecar["pid"] == os.getpid()
    assert sidecar["socket"] == str(server.path)
    assert sidecar["protocol"] == 1
    assert abs(sidecar["started_at"] - time.time()) < 60


def test_socket_is_0600_whatever_the_umask(model: MetricsModel, runtime_dir: Path) -> None:
    old = os.umask(0)
    try:
        with InspectorServer(model) as srv:
            assert _mode(srv.path) == 0o600
            assert _mode(srv.sidecar_path) == 0o600
    finally:
        os.umask(old)


def test_close_removes_socket_and_sidecar(model: MetricsModel, runtime_dir: Path) -> None:
    srv = InspectorServer(model).start()
    path, sidecar = srv.path, srv.sidecar_path
    assert path.exists()
    assert sidecar.exists()
    srv.close()
    assert not path.exists()
    assert not sidecar.exists()
    assert not srv.running
    srv.close()  # idempotent
    with pytest.raises(ConnectionFailed):
        InspectorClient(path)


def test_second_server_for_the_same_pid_refuses_and_removes_nothing(
        server: InspectorServer, model: MetricsModel) -> None:
    before = server.sidecar_path.read_bytes()
    inode = os.lstat(server.path).st_ino
    second = InspectorServer(model, app="intruder")
    with pytest.raises(ServerAlreadyRunning, match="already listens"):
        second.start()
    second.close()
    assert os.lstat(server.path).st_ino == inode
    assert server.sidecar_path.read_bytes() == before
    with InspectorClient(server.path) as client:
        assert client.hello_info["app"] == "test-app"


def test_a_dead_servers_socket_at_our_path_is_replaced(model: MetricsModel,
                                                       runtime_dir: Path) -> None:
    directory = runtime_dir / "resinspect"
    directory.mkdir(mode=0o700)
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(directory / f"{os.getpid()}.sock"))
    leftover.close()  # the file stays; nobody listens
    with InspectorServer(model) as srv, InspectorClient(srv.path) as client:
        assert client.hello_info["app"] == "test-app"


def test_start_removes_stale_sockets_of_dead_processes(model: MetricsModel,
                                                       runtime_dir: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    directory = runtime_dir / "resinspect"
    directory.mkdir(mode=0o700)
    stale = directory / f"{proc.pid}.sock"
    stale.touch()
    stale.with_suffix(".json").write_text("{}")
    with InspectorServer(model):
        assert not stale.exists()
        assert not stale.with_suffix(".json").exists()


def test_a_forked_child_does_not_remove_the_parents_socket(server: InspectorServer) -> None:
    pid = os.fork()
    if pid == 0:  # the child: its exit path runs close(), which must leave the files alone
        try:
            server.close()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert server.path.exists()
    assert server.sidecar_path.exists()
    with InspectorClient(server.path) as client:
        assert client.hello_info["pid"] == os.getpid()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_a_foreign_uid_is_closed_before_any_byte(server: InspectorServer,
                                                 runtime_dir: Path) -> None:
    # Open the path up so that only the peer-credential check stands in the way.
    runtime_dir.chmod(0o711)
    server.path.parent.chmod(0o711)
    server.path.chmod(0o666)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(str(server.path))
            code = 4
            with contextlib.suppress(OSError):  # already closed: fine
                s.sendall(b'{"id": 1, "method": "hello"}\n')
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                data = b""
            os.write(write_end, b"got:" + data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as f:
        received = f.read()
    assert os.waitstatus_to_exitcode(status) == 0, received
    assert received == b"got:"  # connected, then closed with not one byte sent
    assert server.stats()["refused_uid"] == 1
    with InspectorClient(server.path) as client:  # the owner still gets in
        assert client.hello_info["pid"] == os.getpid()


def test_client_sees_connection_lost_when_the_server_closes(model: MetricsModel,
                                                            runtime_dir: Path) -> None:
    srv = InspectorServer(model).start()
    client = InspectorClient(srv.path)
    pushes = client.subscribe(0.05)
    next(pushes)
    srv.close()

    def drain() -> None:
        for _ in range(100):
            next(pushes)

    with pytest.raises(ConnectionLost):
        drain()
    client.close()
