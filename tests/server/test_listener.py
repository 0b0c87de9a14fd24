"""Claiming the socket path and binding it privately (real AF_UNIX sockets)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from inspector.errors import ServerAlreadyRunning
from inspector.server.listener import bind_private, claim, remove_if_ours


@pytest.fixture
def sock_dir(runtime_dir: Path) -> Path:
    """A short private directory (pytest's tmp_path can be too long for AF_UNIX)."""
    return runtime_dir


def test_a_private_listener_is_0600_and_non_blocking(sock_dir: Path) -> None:
    path = sock_dir / "a.sock"
    sock, inode = bind_private(path, backlog=4)
    try:
        st = os.lstat(path)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert st.st_ino == inode
        assert not sock.getblocking()
    finally:
        sock.close()
        remove_if_ours(path, inode)
    assert not path.exists()


def test_a_live_server_keeps_its_path_and_a_dead_ones_socket_is_replaced(
        sock_dir: Path) -> None:
    path = sock_dir / "b.sock"
    live, _inode = bind_private(path, backlog=4)
    try:
        with pytest.raises(ServerAlreadyRunning, match="already listens"):
            claim(path)
        assert path.exists()
    finally:
        live.close()  # nobody listens now: the file is a dead server's
    claim(path)
    assert not os.path.lexists(path)
    claim(path)  # nothing there: nothing to do


def test_a_socket_made_since_by_another_server_is_left_alone(sock_dir: Path) -> None:
    path = sock_dir / "c.sock"
    first, inode = bind_private(path, backlog=4)
    first.close()
    path.unlink()
    second, second_inode = bind_private(path, backlog=4)
    try:
        if second_inode != inode:  # the file system may reuse the inode number
            remove_if_ours(path, inode)
            assert path.exists()
        remove_if_ours(path, second_inode)
        assert not path.exists()
    finally:
        second.close()


def test_connecting_needs_the_listener(sock_dir: Path) -> None:
    path = sock_dir / "d.sock"
    sock, inode = bind_private(path, backlog=4)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(os.fspath(path))
        accepted, _ = sock.accept()
        accepted.close()
    finally:
        client.close()
        sock.close()
        remove_if_ours(path, inode)
