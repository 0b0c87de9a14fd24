"""``resinspect demo --headless``: the main job, as a user runs it, in a process of its own."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from inspector.demo.app import has_display
from tests.conftest import ROOT, python_env

CLI = [sys.executable, "-m", "cli"]


def distinct_colours(path: Path) -> int:
    """How many colours a (downsampled) image uses: a blank image uses one."""
    image = QImage(str(path))
    assert not image.isNull(), path
    small = image.scaled(200, 200)
    return len({small.pixel(x, y) for x in range(small.width()) for y in range(small.height())})


def test_the_headless_demo_runs_is_watchable_and_leaves_screenshots(
        runtime_dir: Path, tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    env = python_env(runtime_dir)
    env.pop("DISPLAY", None)
    started = time.monotonic()
    demo = subprocess.Popen(
        [*CLI, "demo", "--headless", "--seconds", "4", "--screenshots", str(shots)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert demo.stdout is not None
        first = demo.stdout.readline()
        assert first.startswith("resinspect demo: pid "), first
        pid = int(first.split()[3].rstrip(","))
        assert pid == demo.pid
        assert demo.stdout.readline().startswith(f"watch it live: resinspect top --pid {pid}")
        # While it runs, `resinspect top` can watch it over its socket.
        top = subprocess.run([*CLI, "top", "--pid", str(pid), "--once"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=30, check=False)
        assert top.returncode == 0, top.stderr
        assert f"resinspect-demo  pid {pid}" in top.stdout
        rest, errors = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    elapsed = time.monotonic() - started

    assert demo.returncode == 0, errors
    assert "Traceback" not in errors
    assert elapsed < 4 + 15
    # A top frame of itself, then what it did.
    assert f"resinspect-demo  pid {pid}" in rest
    for heading in ("Resources by type", "Components by live bytes", "Leak suspects"):
        assert heading in rest
    assert "orphan_worker" in rest
    assert "LeakyWorkerController#1" in rest
    assert "What the demo did in 4 s:" in rest
    assert "left tracked by their controllers" in rest
    assert ", 0 left tracked" in rest
    assert "block_gui (" in rest
    assert "OSError: planted" in rest
    # Screenshots, not blank, and the log of the planted tracebacks beside them.
    for name in ("dock-workload.png", "dock-leak.png", "top.png"):
        assert distinct_colours(shots / name) > 20, name
    assert (shots / "top.svg").read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert "flush_journal" in (shots / "demo.log").read_text(encoding="utf-8")
    # The socket and its sidecar went with the process.
    assert not list((runtime_dir / "resinspect").glob(f"{pid}.*"))


def test_the_demo_command_is_registered_with_its_options() -> None:
    done = subprocess.run([*CLI, "demo", "--help"], env=python_env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    for option in ("--headless", "--seconds", "--screenshots"):
        assert option in done.stdout


@pytest.mark.parametrize(("env", "expected"), [
    ({"DISPLAY": ":0"}, True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, True),
    ({}, False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
])
def test_without_a_display_the_demo_runs_headless(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "platform", "linux")
    assert has_display() is expected


def test_headless_screenshots_go_to_one_named_folder(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    from inspector.demo.app import default_screenshots_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_screenshots_dir() == tmp_path / "resinspect" / "demo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_screenshots_dir() == Path.home() / ".cache" / "resinspect" / "demo"
