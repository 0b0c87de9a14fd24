"""Cleanup at quit and at interpreter exit runs exactly once, in real subprocesses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import APPS, python_env


@pytest.mark.parametrize("mode", ["normal", "sys_exit", "last_window_closed", "quit"])
def test_exit_cleanup_runs_exactly_once(mode: str) -> None:
    done = subprocess.run(  # noqa: PLW1510 (the exit status is asserted)
        [sys.executable, str(APPS / "exit_app.py"), mode], env=python_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("CLEANUP") == 1, (done.stdout, done.stderr[-2000:])
