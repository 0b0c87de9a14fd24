"""attach() before the QApplication, RESINSPECT=0 under run, and a program that uses the
service itself under run: both views, nothing counted twice."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.apps.harness import RESINSPECT
from tests.conftest import APPS, PYTHON, python_env
from tests.reach.helpers import RunApp

REACH_APP = str(APPS / "reach_app.py")


def test_attach_before_the_application_still_sees_a_freeze(runtime_dir: Path) -> None:
    out = subprocess.run([PYTHON, REACH_APP, "early"], capture_output=True, text=True,
                         env=python_env(runtime_dir), timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert "OBSERVED False" in out.stdout  # only the application's creation is hooked
    lag = int(out.stdout.split("LAG ")[1].split()[0])
    assert lag >= 800, out.stdout  # a 1.5 s freeze; "lag 0" would mean no probe


def test_resinspect_0_runs_the_program_without_a_hook(runtime_dir: Path) -> None:
    env = python_env(runtime_dir)
    hooked = subprocess.run([*RESINSPECT, "run", REACH_APP, "hooked"], capture_output=True,
                            text=True, env=env, timeout=60, check=False)
    assert (hooked.returncode, hooked.stdout.strip()) == (0, "HOOKED True"), hooked.stderr
    env["RESINSPECT"] = "0"
    off = subprocess.run([*RESINSPECT, "run", REACH_APP, "hooked"], capture_output=True,
                         text=True, env=env, timeout=60, check=False)
    assert (off.returncode, off.stdout.strip()) == (0, "HOOKED False"), off.stderr


def test_a_program_using_the_service_shows_both_and_counts_once(
        run_app: Callable[..., RunApp]) -> None:
    app = run_app(REACH_APP, "merged")
    app.expect("READY", timeout=60)

    def settled(snap: dict[str, object]) -> bool:
        by_type = snap["by_type"]
        return (isinstance(by_type, dict) and by_type.get("worker", {}).get("live") == 3
                and by_type.get("timer", {}).get("live") == 1)

    snap = app.wait_for(settled, timeout=15)  # the second worker: ours, then theirs
    owners = {c["id"]: c["live"] for c in snap["components"]}
    assert owners["JobsController#1"] == 2  # first and second, tracked by the program
    assert owners["Window#1"] == 3  # the window itself, its raw thread and its timer
    assert snap["active_workers"] == 3
    assert app.quit() == 0, app.stderr[-2000:]
