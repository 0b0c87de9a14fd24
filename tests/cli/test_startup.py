"""What each command imports: nothing heavy it does not use, and never Qt.

Measured in a fresh interpreter each time, since this test process has long since imported
everything.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import PYTHON, ROOT, python_env

HEAVY = ("PySide6", "shiboken6", "pyqtgraph", "prometheus_client", "numpy", "psutil")

_PROBE = """
import json, sys
from cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def modules_after(*args: str) -> tuple[int, set[str]]:
    """Exit status and ``sys.modules`` after ``resinspect <args>`` in a new interpreter."""
    env = python_env()
    env["XDG_RUNTIME_DIR"] = "/nonexistent-resinspect-test"
    result = subprocess.run([PYTHON, "-c", _PROBE, *args], env=env, capture_output=True,
                            text=True, timeout=60, cwd=ROOT, check=False)
    report = json.loads(result.stderr.splitlines()[-1])
    return report["code"], set(report["modules"])


def roots(modules: set[str]) -> set[str]:
    return {m.partition(".")[0] for m in modules}


@pytest.mark.parametrize("args", [
    ["--version"],
    ["--help"],
    ["ls"],
    ["ls", "--json"],
    ["snapshot"],
    ["snapshot", "--socket", "/nonexistent.sock"],
    ["top", "--once"],
    ["top", "--help"],
])
def test_no_command_imports_qt_or_heavy_libraries(args: list[str]) -> None:
    _, modules = modules_after(*args)
    assert not roots(modules) & set(HEAVY), sorted(roots(modules) & set(HEAVY))


def test_help_and_version_import_no_command() -> None:
    for args in (["--version"], ["--help"]):
        code, modules = modules_after(*args)
        assert code == 0
        assert not {m for m in modules if m.startswith("cli.commands.")}, args


def test_snapshot_json_needs_no_rich() -> None:
    code, modules = modules_after("snapshot")
    assert code == 1  # nothing is running in the fake runtime directory
    assert "rich" not in roots(modules)
    assert "cli.commands.top" not in modules
    assert "cli.commands.ls" not in modules
