"""Cleanup at quit and at interpreter exit runs exactly once, in real subprocesses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import APPS, python_env

MODES = ["normal", "sys_exit", "last_window_closed", "quit"]


def _run(mode: str, owner: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 (the exit status is asserted)
        [sys.executable, str(APPS / "exit_app.py"), mode, owner], env=python_env(),
        capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("mode", MODES)
def test_exit_cleanup_runs_exactly_once(mode: str) -> None:
    done = _run(mode, "registered")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("CLEANUP") == 1, (done.stdout, done.stderr[-2000:])


@pytest.mark.parametrize("owner", ["collected", "coordinator"])
@pytest.mark.parametrize("mode", MODES)
def test_a_deferred_cleanup_runs_exactly_once_loop_or_exit(mode: str, owner: str) -> None:
    """A collected owner's (or dropped coordinator's) cleanup waits for the event loop: never
    inside the collection; when the loop never turns again, at exit; once either way."""
    done = _run(mode, owner)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.split()
    assert lines.count("CLEANUP") == 1, (done.stdout, done.stderr[-2000:])
    assert lines.index("COLLECTED") < lines.index("CLEANUP"), done.stdout  # not inside it
    if mode == "last_window_closed":  # the loop turned after the collection: it ran it
        assert lines.index("CLEANUP") < lines.index("LOOP_ENDED"), done.stdout
