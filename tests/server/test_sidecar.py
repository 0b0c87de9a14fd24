"""The files beside a socket: the sidecar (written atomically, read defensively), the stall
file's name."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from inspector.server import discovery
from inspector.server.sidecar import (
    MAX_SIDECAR,
    AppInfo,
    read_sidecar,
    sidecar_for,
    stall_for,
    write_sidecar,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_sidecar_is_written_atomically_0600_and_read_back(runtime_dir: Path) -> None:
    directory = discovery.ensure_runtime_dir()
    sock = directory / "123.sock"
    info = AppInfo(pid=123, app="demo", socket=sock, started_at=10.25,
                   versions={"python": "3.11"}, protocol=1)
    path = write_sidecar(info)
    assert path == directory / "123.json"
    assert _mode(path) == 0o600
    assert read_sidecar(sock) == info
    assert sorted(p.name for p in directory.iterdir()) == ["123.json"]  # no temporary left


def test_broken_sidecar_still_gives_the_pid(runtime_dir: Path) -> None:
    directory = discovery.ensure_runtime_dir()
    (directory / "77.json").write_text("{not json")
    info = read_sidecar(directory / "77.sock")
    assert (info.pid, info.app) == (77, "")


def test_hostile_sidecars_give_a_blank_entry_not_a_hang_or_a_crash(runtime_dir: Path) -> None:
    directory = discovery.ensure_runtime_dir()
    os.mkfifo(directory / "11.json")  # opened non-blocking: no hang
    (directory / "12.json").write_text("[" * 100_000)  # nested past the recursion limit
    (directory / "13.json").write_text('{"app": "inf", "started_at": Infinity}')
    (directory / "14.json").write_bytes(b" " * (MAX_SIDECAR + 1))
    (directory / "15.json").symlink_to("/dev/zero")
    (directory / "16.json").write_text('{"app": "%s", "started_at": -3, "protocol": true}'
                                       % ("x" * 10_000))
    for pid in (11, 12, 13, 14, 15):
        assert read_sidecar(directory / f"{pid}.sock") == AppInfo(
            pid=pid, app="", socket=directory / f"{pid}.sock")
    odd = read_sidecar(directory / "16.sock")
    assert (odd.pid, len(odd.app), odd.started_at, odd.protocol) == (16, 4096, 0.0, 0)


def test_the_files_beside_a_socket_are_named_after_it() -> None:
    sock = Path("/r/resinspect/42.sock")
    assert sidecar_for(sock) == Path("/r/resinspect/42.json")
    assert stall_for(sock) == Path("/r/resinspect/42.stall")
    assert discovery.sidecar_for is sidecar_for  # the old import path keeps working
