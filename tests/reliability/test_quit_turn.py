"""A worker started in the same event-loop turn as ``quit()`` is stopped by its coordinator at
exit, whatever the order of track and start and whoever else holds it (issue 18: such a worker
once went unstopped and Qt aborted the process, "QThread: Destroyed while thread is still
running")."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, python_env

APP = Path(__file__).resolve().parents[1] / "apps" / "quit_turn_app.py"


@pytest.mark.parametrize("order", ["track-start", "start-track"])
@pytest.mark.parametrize("held", ["app", "coordinator"])
def test_a_worker_started_as_the_app_quits_is_stopped_once_and_the_exit_is_clean(
        runtime_dir: Path, order: str, held: str) -> None:
    done = subprocess.run([PYTHON, str(APP), "--order", order, "--held", held],
                          env=python_env(runtime_dir), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "EXEC_RETURNED 0" in done.stdout
    assert done.stdout.count("CANCELLED") == 1, done.stdout
    assert "Destroyed while thread" not in done.stderr
