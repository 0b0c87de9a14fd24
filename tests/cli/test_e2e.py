"""End to end: the installed ``resinspect`` against a real PySide6 application process.

``tests/apps/tracked_app.py`` tracks 3 caches of 1000 bytes under ``CacheOwner`` and 2
running QThreads under ``WorkerOwner``, and attaches the inspector as ``tracked-app``. Every
command here runs as its own process, as a user would run it, with the test's private
``XDG_RUNTIME_DIR``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.metrics.snapshot import Snapshot
from tests.apps.harness import RESINSPECT, TRACKED_APP, App, resinspect  # noqa: F401
from tests.cli_helpers import assert_one_line_error
from tests.conftest import PYTHON, ROOT, python_env


def check_tracked_numbers(snap: Snapshot, pid: int) -> None:
    """What tracked_app.py tracks, exactly."""
    assert (snap.pid, snap.app) == (pid, "tracked-app")
    assert snap.live_resources == 5
    assert (snap.created_total, snap.destroyed_total) == (5, 0)
    assert snap.tracked_bytes == 3000
    assert (snap.cache_bytes, snap.cache_entries) == (3000, 3)
    assert snap.active_workers == 2
    assert snap.by_type["cache"].live == 3
    assert snap.by_type["cache"].bytes == 3000
    assert snap.by_type["worker"].live == 2
    comps = {c.id: c for c in snap.components}
    assert set(comps) == {"CacheOwner", "WorkerOwner"}
    assert (comps["CacheOwner"].live, comps["CacheOwner"].bytes) == (3, 3000)
    assert (comps["WorkerOwner"].live, comps["WorkerOwner"].bytes) == (2, 0)
    assert all(c.alive for c in comps.values())


# -- ls ------------------------------------------------------------------------------------


def test_ls_lists_the_application(app: App, runtime_dir: Path) -> None:
    plain = resinspect(runtime_dir, "ls")
    assert plain.returncode == 0, plain
    (row,) = [line for line in plain.stdout.splitlines() if line.split()[:1] == [str(app.pid)]]
    assert row.split()[1] == "tracked-app"
    assert row.split()[-1] == str(runtime_dir / "resinspect" / f"{app.pid}.sock")

    listed = resinspect(runtime_dir, "ls", "--json")
    assert listed.returncode == 0, listed
    (entry,) = json.loads(listed.stdout)
    assert entry["pid"] == app.pid
    assert entry["app"] == "tracked-app"
    assert Path(entry["socket"]) == runtime_dir / "resinspect" / f"{app.pid}.sock"
    assert 0 <= entry["uptime_s"] < 120


# -- snapshot ------------------------------------------------------------------------------


def test_snapshot_numbers_equal_what_the_app_tracked(app: App, runtime_dir: Path) -> None:
    sock = str(runtime_dir / "resinspect" / f"{app.pid}.sock")
    for target in ([], ["--pid", str(app.pid)], ["--socket", sock]):
        result = resinspect(runtime_dir, "snapshot", *target)
        assert result.returncode == 0, result
        assert result.stderr == ""
        check_tracked_numbers(Snapshot.from_json(result.stdout), app.pid)


def test_snapshot_validates_against_the_committed_schema(app: App, runtime_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "src/inspector/metrics/snapshot.schema.json").read_text())
    result = resinspect(runtime_dir, "snapshot")
    jsonschema.validate(json.loads(result.stdout), schema)


def test_snapshot_formats_and_output_file(app: App, runtime_dir: Path, tmp_path: Path) -> None:
    csv = resinspect(runtime_dir, "snapshot", "--format", "csv")
    assert csv.returncode == 0, csv
    assert "component_bytes,,CacheOwner,3000" in csv.stdout.splitlines()
    prom = resinspect(runtime_dir, "snapshot", "--format", "prom")
    assert prom.returncode == 0, prom
    assert f'resinspect_cache_entries{{app="tracked-app",pid="{app.pid}"}} 3.0' in prom.stdout
    out = tmp_path / "snap.json"
    written = resinspect(runtime_dir, "snapshot", "-o", str(out))
    assert (written.returncode, written.stdout) == (0, "")
    check_tracked_numbers(Snapshot.from_json(out.read_bytes()), app.pid)


# -- top -----------------------------------------------------------------------------------


def test_top_once_renders_the_numbers(app: App, runtime_dir: Path) -> None:
    for args in (["--once"], []):  # no terminal: the same single frame
        result = resinspect(runtime_dir, "top", *args)
        assert result.returncode == 0, result
        out = result.stdout
        assert "\x1b[" not in out
        assert out.count(f"tracked-app  pid {app.pid}") == 1
        assert "5 live / 5 created / 0 destroyed" in out
        assert "2 active" in out
        assert "2.9 KiB in 3 entries" in out
        rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
        assert rows["CacheOwner"] == ["CacheOwner", "cache_owner", "3", "2.9", "KiB", "alive"]
        assert rows["WorkerOwner"] == ["WorkerOwner", "worker_owner", "2", "0", "B", "alive"]
        assert rows["cache"] == ["cache", "3", "3", "0", "2.9", "KiB"]


# -- a frozen GUI thread -------------------------------------------------------------------


def test_frozen_gui_thread_still_answers_with_its_stack(start_app: Callable[..., App],
                                                         runtime_dir: Path) -> None:
    app = start_app("--freeze-after", "0.3", "--freeze-for", "3")
    app.expect("FROZEN", timeout=10)
    time.sleep(1.0)  # past the 500 ms threshold, well before the GUI thread wakes
    started = time.monotonic()
    result = resinspect(runtime_dir, "snapshot", "--pid", str(app.pid))
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result
    assert elapsed < 1.0, f"answered in {elapsed:.2f} s"
    snap = Snapshot.from_json(result.stdout)
    assert snap.event_loop_lag_ms > 500
    assert snap.event_loop_blocked
    assert snap.gui_stack, "no GUI stack while blocked"
    assert snap.gui_stack[-1].startswith("freeze_gui_thread ")  # innermost last
    check_tracked_numbers(snap, app.pid)

    top = resinspect(runtime_dir, "top", "--once")
    assert top.returncode == 0, top
    assert "EVENT LOOP BLOCKED" in top.stdout
    assert "freeze_gui_thread (" in top.stdout


# -- failures ------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([PYTHON, "-c", "pass"])
    proc.wait(30)
    return proc.pid


@pytest.mark.parametrize("command", ["snapshot", "top"])
def test_pid_of_a_dead_process_is_one_line(app: App, runtime_dir: Path, command: str) -> None:
    dead = _dead_pid()
    result = resinspect(runtime_dir, command, "--pid", str(dead))
    assert_one_line_error(result, contains=f"pid {dead}")
    assert f"{app.pid} (tracked-app)" in result.stderr  # what is running instead


def test_nothing_running_is_one_line(runtime_dir: Path) -> None:
    assert_one_line_error(resinspect(runtime_dir, "snapshot"),
                          contains="no resinspect application is running")
    listed = resinspect(runtime_dir, "ls")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert listed.stdout.startswith("No live applications")


# -- live top in a terminal ----------------------------------------------------------------


class Terminal:
    """``resinspect top`` on a pseudo-terminal (120x40), its screen drained by a thread."""

    def __init__(self, runtime: Path, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = python_env(runtime)
        env["TERM"] = "xterm-256color"
        self.proc = subprocess.Popen([*RESINSPECT, "top", *args], env=env, cwd=ROOT,
                                     stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        os.close(slave)
        self.master = master
        self.screen = b""
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the other side is closed
                return
            if not data:
                return
            with self._lock:
                self.screen += data

    def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if text.encode() in self.screen:
                    return
            time.sleep(0.05)
        pytest.fail(f"{text!r} never appeared; screen: {self.screen[-2000:]!r}")

    def finish(self, timeout: float = 20) -> tuple[int, str]:
        try:
            _, stderr = self.proc.communicate(timeout=timeout)
        finally:
            with contextlib.suppress(OSError):
                os.close(self.master)
        return self.proc.returncode, stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def terminal(runtime_dir: Path) -> Iterator[Callable[..., Terminal]]:
    terms: list[Terminal] = []

    def open_terminal(*args: str) -> Terminal:
        term = Terminal(runtime_dir, *args)
        terms.append(term)
        return term

    yield open_terminal
    for term in terms:
        term.kill()


def test_live_top_redraws_and_ctrl_c_leaves_cleanly(app: App,
                                                    terminal: Callable[..., Terminal]) -> None:
    term = terminal("--interval", "0.2")
    term.wait_for("CacheOwner")
    # A full-screen view (the alternate screen), redrawn in place from its top-left corner.
    term.wait_for("\x1b[?1049h")
    deadline = time.monotonic() + 20
    while term.screen.count(b"CacheOwner") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert term.screen.count(b"\x1b[H") >= 2
    term.proc.send_signal(signal.SIGINT)
    code, stderr = term.finish()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert b"\x1b[?1049l" in term.screen  # the terminal is given back as it was


def test_live_top_when_the_app_goes_away_is_one_line(app: App,
                                                     terminal: Callable[..., Terminal]) -> None:
    term = terminal("--interval", "0.2")
    term.wait_for("WorkerOwner")
    app.proc.kill()  # a crash: no goodbye on the socket
    code, stderr = term.finish()
    assert code == 1, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("resinspect: ")
    assert "Traceback" not in stderr
