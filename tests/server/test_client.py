"""The client: failures come out as the error tree, and it never needs Qt."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.errors import (
    AccessDenied,
    ConnectionFailed,
    ConnectionLost,
    ProtocolError,
    RemoteError,
    RequestTimedOut,
    SocketPathTooLong,
)
from inspector.server import InspectorServer
from inspector.server.client import InspectorClient
from inspector.server.protocol import METHOD_NOT_FOUND

from ..conftest import python_env

HELLO_OK = (b'{"id":1,"result":{"app":"fake","pid":1,"versions":{},"protocol":1}}\n')


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[Callable[[Callable[[socket.socket], None]], Path]]:
    """A one-connection server thread that runs ``script(conn)``: for misbehaving peers."""
    threads: list[threading.Thread] = []
    listeners: list[socket.socket] = []

    def start(script: Callable[[socket.socket], None]) -> Path:
        path = tmp_path / "fake.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(1)
        listeners.append(listener)

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                script(conn)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return path

    yield start
    for listener in listeners:
        listener.close()
    for thread in threads:
        thread.join(5)


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_missing_socket_is_connection_failed(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFailed, match="no such socket"):
        InspectorClient(tmp_path / "nope.sock")


def test_socket_nobody_listens_on_is_connection_failed(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    with pytest.raises(ConnectionFailed, match="nobody listens"):
        InspectorClient(path)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_someone_elses_socket_is_access_denied(tmp_path: Path) -> None:
    path = tmp_path / "theirs.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(1)
    os.chown(path, 65534, 65534)
    try:
        with pytest.raises(AccessDenied, match="belongs to uid 65534"):
            InspectorClient(path)
    finally:
        s.close()


def test_path_too_long(tmp_path: Path) -> None:
    with pytest.raises(SocketPathTooLong):
        InspectorClient(tmp_path / ("x" * 120) / "1.sock")


def test_eof_mid_reply_is_connection_lost(fake_server: Callable[..., Path]) -> None:
    def script(conn: socket.socket) -> None:
        _read_line(conn)
        conn.sendall(HELLO_OK[:20])  # then hang up

    with pytest.raises(ConnectionLost, match="in the middle of a reply"):
        InspectorClient(fake_server(script))


def test_silence_is_a_timeout_after_the_timeout(fake_server: Callable[..., Path]) -> None:
    done = threading.Event()

    def script(conn: socket.socket) -> None:
        _read_line(conn)
        done.wait(5)

    try:
        with pytest.raises(RequestTimedOut, match="no answer") as caught:
            InspectorClient(fake_server(script), timeout=0.2)
        assert isinstance(caught.value, ConnectionLost)  # the same exit status as before
    finally:
        done.set()


def test_unsupported_protocol_is_a_protocol_error(fake_server: Callable[..., Path]) -> None:
    def script(conn: socket.socket) -> None:
        _read_line(conn)
        conn.sendall(b'{"id":1,"result":{"app":"future","pid":1,"versions":{},'
                     b'"protocol":7}}\n')

    with pytest.raises(ProtocolError, match="protocol 7"):
        InspectorClient(fake_server(script))


def test_server_refusing_our_versions_is_a_protocol_error(
        fake_server: Callable[..., Path]) -> None:
    def script(conn: socket.socket) -> None:
        _read_line(conn)
        conn.sendall(b'{"id":1,"error":{"code":-32002,"message":"unsupported protocol"}}\n')

    with pytest.raises(ProtocolError, match="unsupported protocol"):
        InspectorClient(fake_server(script))


def test_garbage_is_a_protocol_error(fake_server: Callable[..., Path]) -> None:
    def script(conn: socket.socket) -> None:
        _read_line(conn)
        conn.sendall(b"HTTP/1.1 400 Bad Request\n")

    with pytest.raises(ProtocolError, match="not the protocol"):
        InspectorClient(fake_server(script))


def test_error_reply_is_remote_error(server: InspectorServer) -> None:
    with InspectorClient(server.path) as client:
        with pytest.raises(RemoteError) as info:
            client.call("frobnicate")
        assert info.value.code == METHOD_NOT_FOUND
        assert client.call("hello")["app"] == "test-app"  # still usable


def test_closed_client_raises_connection_lost(server: InspectorServer) -> None:
    client = InspectorClient(server.path)
    client.close()
    client.close()
    with pytest.raises(ConnectionLost):
        client.snapshot()


def test_client_discovery_and_protocol_import_no_qt() -> None:
    code = ("import sys, inspector.server.client, inspector.server.discovery, "
            "inspector.server.protocol, inspector.server\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', "
            "'pyqtgraph', 'inspector.metrics.model', 'inspector.server.server')))\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], env=python_env(),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


_KEPT_FOR_WHY: list[object] = []


def test_why_answers_over_the_socket_and_refuses_unknown_ids(server: InspectorServer) -> None:
    from inspector.resources import ResourceType

    class Owner:
        pass

    class Kept:
        pass

    owner, kept = Owner(), Kept()
    _KEPT_FOR_WHY.append(kept)
    service = server.model.service  # type: ignore[attr-defined]
    rid = service.track_resource(owner, ResourceType.CUSTOM, kept)
    del kept  # else this frame's local is the shortest chain (a "thread frame" root)
    try:
        with InspectorClient(server.path) as client:
            result = client.why(rid)
            assert result.resource_id == rid
            assert result.complete
            assert result.chain[0].kind == "module global"
            assert result.chain[0].name == f"{__name__}._KEPT_FOR_WHY"
            assert result.chain[-1].name == "Kept"
            with pytest.raises(RemoteError) as err:
                client.why("custom-999999")
            assert err.value.code == -32602
            assert "no live resource 'custom-999999'" in err.value.message
            with pytest.raises(RemoteError):
                client.call("why", {})  # the id is required
            assert client.call("hello")["app"] == "test-app"  # still usable
    finally:
        _KEPT_FOR_WHY.clear()
