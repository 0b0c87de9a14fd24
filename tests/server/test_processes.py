"""Whether a process is alive and is the one that wrote a sidecar; whether a socket accepts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.server.processes import (
    PID_MAX,
    pid_alive,
    pid_from_name,
    proc_state,
    process_start_time,
    same_process,
    socket_accepts,
)


def test_our_process_is_alive_and_started_before_now() -> None:
    assert pid_alive(os.getpid())
    began = process_start_time(os.getpid())
    assert began is not None
    assert began <= time.time()
    assert same_process(os.getpid(), time.time())
    assert not same_process(os.getpid(), began - 60)  # a server older than its process


def test_a_reaped_process_and_impossible_pids_are_not_alive() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    assert proc_state(proc.pid) == ""
    for pid in (0, -1, PID_MAX + 1):
        assert not pid_alive(pid)


@pytest.mark.parametrize(("name", "pid"), [
    ("4242", 4242), ("0042", None), ("4242x", None), ("\u00b2", None), ("\u0664\u0662", None),
    ("12345678", None), (str(PID_MAX + 1), None), ("", None),
])
def test_only_plain_ascii_pids_are_pids(name: str, pid: int | None) -> None:
    assert pid_from_name(name) == pid


def test_a_socket_accepts_only_while_someone_listens(runtime_dir: Path) -> None:
    path = runtime_dir / "s.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    assert not socket_accepts(path)  # bound, not listening: refused
    listener.listen(1)
    assert socket_accepts(path)
    listener.close()
    assert not socket_accepts(path)
    assert not socket_accepts(runtime_dir / "none.sock")
