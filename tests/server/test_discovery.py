"""Discovery: the private runtime directory, live/stale sockets, choosing an app (the sidecar
itself: test_sidecar.py; process liveness: test_processes.py)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.errors import (
    AmbiguousApplication,
    NoApplication,
    SocketPathTooLong,
    UnsafeRuntimeDirectory,
)
from inspector.server import discovery
from inspector.server.discovery import AppInfo


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _socket_file(path: Path) -> None:
    """Leave a socket file at ``path`` with nobody listening (as a crashed app does)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()


#: Listening sockets of the fake live applications, closed when the test ends.
_LISTENERS: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_listeners() -> Iterator[None]:
    yield
    while _LISTENERS:
        _LISTENERS.pop().close()


def _fake_app(directory: Path, pid: int, app: str, *, listening: bool | None = None) -> Path:
    """A socket and sidecar for ``pid``: listening (as a live server's is) when the pid is
    alive, unless ``listening`` says otherwise; liveness is decided by the socket."""
    sock = directory / f"{pid}.sock"
    if listening if listening is not None else discovery.pid_alive(pid):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(sock))
        listener.listen(8)
        _LISTENERS.append(listener)
    else:
        _socket_file(sock)
    discovery.write_sidecar(AppInfo(pid=pid, app=app, socket=sock, started_at=1.5,
                                    versions={"python": "3"}, protocol=1))
    return sock


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A live process that is not us."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def dead_pid() -> int:
    """A pid whose process has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not discovery.pid_alive(proc.pid)
    return proc.pid


def test_runtime_dir_is_created_private(runtime_dir: Path) -> None:
    path = discovery.ensure_runtime_dir()
    assert path == runtime_dir / "resinspect"
    assert _mode(path) == 0o700
    assert os.lstat(path).st_uid == os.geteuid()


def test_runtime_dir_ignores_a_permissive_umask(runtime_dir: Path) -> None:
    old = os.umask(0)
    try:
        path = discovery.ensure_runtime_dir()
    finally:
        os.umask(old)
    assert _mode(path) == 0o700


def test_fallback_runtime_dir_under_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = discovery.ensure_runtime_dir()
    base = tmp_path / f"resinspect-{os.geteuid()}"
    assert path == base / "resinspect"
    assert _mode(base) == 0o700
    assert _mode(path) == 0o700


def test_fallback_base_planted_by_someone_else_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    base = tmp_path / f"resinspect-{os.geteuid()}"
    base.mkdir(mode=0o777)
    base.chmod(0o777)
    with pytest.raises(UnsafeRuntimeDirectory, match="open to group/other"):
        discovery.ensure_runtime_dir()


def test_symlinked_dir_is_refused(runtime_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (runtime_dir / "resinspect").symlink_to(target)
    with pytest.raises(UnsafeRuntimeDirectory) as info:
        discovery.ensure_runtime_dir()
    message = str(info.value)
    assert str(runtime_dir / "resinspect") in message
    assert "symlink" in message
    assert "\n" not in message


def test_group_readable_dir_is_refused(runtime_dir: Path) -> None:
    (runtime_dir / "resinspect").mkdir()
    (runtime_dir / "resinspect").chmod(0o755)
    with pytest.raises(UnsafeRuntimeDirectory) as info:
        discovery.ensure_runtime_dir()
    message = str(info.value)
    assert str(runtime_dir / "resinspect") in message
    assert "mode 0755" in message
    assert "\n" not in message
    assert _mode(runtime_dir / "resinspect") == 0o755  # refused, not silently "fixed"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_dir_of_another_owner_is_refused(runtime_dir: Path) -> None:
    path = runtime_dir / "resinspect"
    path.mkdir(mode=0o700)
    os.chown(path, 65534, 65534)
    with pytest.raises(UnsafeRuntimeDirectory, match="owned by uid 65534"):
        discovery.ensure_runtime_dir()


def test_a_file_in_place_of_the_dir_is_refused(runtime_dir: Path) -> None:
    (runtime_dir / "resinspect").write_text("")
    with pytest.raises(UnsafeRuntimeDirectory, match="not a directory"):
        discovery.ensure_runtime_dir()


def test_list_apps_refuses_an_unsafe_dir(runtime_dir: Path) -> None:
    (runtime_dir / "resinspect").mkdir()
    (runtime_dir / "resinspect").chmod(0o777)
    with pytest.raises(UnsafeRuntimeDirectory):
        discovery.list_apps()


def test_list_apps_shows_live_only(runtime_dir: Path, live_pid: int, dead_pid: int) -> None:
    directory = discovery.ensure_runtime_dir()
    _fake_app(directory, live_pid, "alive")
    _fake_app(directory, dead_pid, "dead")
    # A live pid with a sidecar but no socket is not an application one can talk to.
    discovery.write_sidecar(AppInfo(pid=os.getpid(), app="nosocket",
                                    socket=directory / f"{os.getpid()}.sock"))
    apps = discovery.list_apps()
    assert [(a.pid, a.app) for a in apps] == [(live_pid, "alive")]
    assert apps[0].socket == directory / f"{live_pid}.sock"
    assert apps[0].versions == {"python": "3"}


def test_remove_stale_never_touches_a_live_pid(runtime_dir: Path, live_pid: int,
                                               dead_pid: int) -> None:
    directory = discovery.ensure_runtime_dir()
    live = _fake_app(directory, live_pid, "alive")
    dead = _fake_app(directory, dead_pid, "dead")
    (directory / "notes.txt").write_text("not ours to judge")
    removed = discovery.remove_stale()
    assert sorted(removed) == sorted([dead, dead.with_suffix(".json")])
    assert live.exists()
    assert live.with_suffix(".json").exists()
    assert not dead.exists()
    assert not dead.with_suffix(".json").exists()
    assert (directory / "notes.txt").exists()


def test_find_app_without_any(runtime_dir: Path) -> None:
    with pytest.raises(NoApplication, match="no resinspect application is running"):
        discovery.find_app()


def test_find_app_the_only_one_and_by_pid(runtime_dir: Path, live_pid: int) -> None:
    directory = discovery.ensure_runtime_dir()
    sock = _fake_app(directory, live_pid, "alive")
    assert discovery.find_app().socket == sock
    assert discovery.find_app(pid=live_pid).app == "alive"
    assert discovery.find_app(socket=sock).pid == live_pid
    with pytest.raises(NoApplication) as info:
        discovery.find_app(pid=1_999_999)
    assert f"{live_pid} (alive)" in str(info.value)


def test_find_app_ambiguous_lists_candidates(runtime_dir: Path, live_pid: int) -> None:
    directory = discovery.ensure_runtime_dir()
    _fake_app(directory, live_pid, "first")
    _fake_app(directory, os.getpid(), "second")
    with pytest.raises(AmbiguousApplication) as info:
        discovery.find_app()
    message = str(info.value)
    assert f"{live_pid} (first)" in message
    assert f"{os.getpid()} (second)" in message
    assert "\n" not in message


def test_find_app_by_missing_socket(runtime_dir: Path) -> None:
    with pytest.raises(NoApplication, match="no socket at"):
        discovery.find_app(socket=runtime_dir / "nope.sock")


def test_socket_path_too_long_is_an_error_not_a_truncation(tmp_path: Path) -> None:
    long_dir = tmp_path / ("d" * 120)
    with pytest.raises(SocketPathTooLong) as info:
        discovery.check_socket_path(long_dir / "1.sock")
    assert "107" in str(info.value)
    discovery.check_socket_path(Path("/tmp/x.sock"))  # a short one is fine
    exact = Path("/tmp/" + "a" * (discovery.SUN_PATH_SIZE - 1 - len("/tmp/")))
    discovery.check_socket_path(exact)  # 107 bytes fit with the NUL
    with pytest.raises(SocketPathTooLong):
        discovery.check_socket_path(Path(str(exact) + "a"))
