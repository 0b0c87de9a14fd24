"""`resinspect run SCRIPT` behaves as `python SCRIPT`: argv, __main__, streams, exit status."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.apps.harness import RESINSPECT
from tests.cli_helpers import assert_one_line_error
from tests.conftest import APPS, PYTHON, ROOT, python_env

SCRIPT = APPS / "plain_script.py"


def _both(runtime: Path, *args: str, stdin: str = "typed in\n",
          cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess[str],
                                     subprocess.CompletedProcess[str]]:
    env = python_env(runtime)

    def go(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env,
                              cwd=cwd, timeout=60, check=False)

    return go([PYTHON, *args]), go([*RESINSPECT, "run", *args])


@pytest.mark.parametrize("extra", [(), ("--status", "7"), ("--status", "went wrong"),
                                   ("--raise",), ("--", "-x", "--help")])
def test_a_script_sees_what_python_gives_it(runtime_dir: Path, extra: tuple[str, ...]) -> None:
    plain, run = _both(runtime_dir, str(SCRIPT.relative_to(ROOT)), "a b", *extra)
    assert (run.returncode, run.stdout, run.stderr) == (
        plain.returncode, plain.stdout, plain.stderr)
    assert "stdin typed in" in run.stdout
    assert f"path0 {SCRIPT.parent}" in run.stdout


def test_a_module_sees_what_python_m_gives_it(runtime_dir: Path) -> None:
    plain, run = _both(runtime_dir, "-m", "tests.apps.plain_script", "--status", "3", "-v")
    assert (run.returncode, run.stdout, run.stderr) == (
        plain.returncode, plain.stdout, plain.stderr)
    assert "'-v'" in run.stdout  # an option after the module is the module's


def test_a_missing_script_is_a_usage_error(runtime_dir: Path) -> None:
    out = subprocess.run([*RESINSPECT, "run", "no/such/script.py"], capture_output=True,
                         text=True, env=python_env(runtime_dir), timeout=30, check=False)
    assert_one_line_error(out, "can't open file", code=2)


def test_a_missing_module_is_one_line(runtime_dir: Path) -> None:
    out = subprocess.run([*RESINSPECT, "run", "-m", "no_such_module_here"], capture_output=True,
                         text=True, env=python_env(runtime_dir), timeout=30, check=False)
    assert_one_line_error(out, "No module named no_such_module_here", code=1)


def test_nothing_to_run_is_a_usage_error(runtime_dir: Path) -> None:
    out = subprocess.run([*RESINSPECT, "run"], capture_output=True, text=True,
                         env=python_env(runtime_dir), timeout=30, check=False)
    assert_one_line_error(out, "missing SCRIPT", code=2)


def test_an_unknown_option_before_the_script_is_a_usage_error(runtime_dir: Path) -> None:
    out = subprocess.run([*RESINSPECT, "run", "--bogus", str(SCRIPT)], capture_output=True,
                         text=True, env=python_env(runtime_dir), timeout=30, check=False)
    assert_one_line_error(out, "--bogus", code=2)
