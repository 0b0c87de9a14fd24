"""The fleet modules and their commands stay free of Qt, and light where they can be.

Measured in a fresh interpreter: this test process has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import PYTHON, ROOT, python_env

QT = ("PySide6", "shiboken6", "pyqtgraph")

_PROBE = """
import json, sys
import inspector.fleet.recording, inspector.fleet.diff, inspector.fleet.budgets
import inspector.fleet.exporter, inspector.fleet._signals
from cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def modules_after(*args: str) -> set[str]:
    """Top-level packages loaded by the fleet modules plus ``resinspect <args>``."""
    env = python_env()
    env["XDG_RUNTIME_DIR"] = "/nonexistent-resinspect-test"
    result = subprocess.run([PYTHON, "-c", _PROBE, *args], env=env, capture_output=True,
                            text=True, timeout=60, cwd=ROOT, check=False)
    report = json.loads(result.stderr.splitlines()[-1])
    return {m.partition(".")[0] for m in report["modules"]}


@pytest.mark.parametrize("args", [
    ["record", "-o", "/nonexistent-dir/x.ndjson"],
    ["diff", "/nonexistent.json", "--fail-on", "live>0"],
    ["exporter", "--listen", "bad"],
    ["top", "--replay", "/nonexistent.ndjson"],
])
def test_fleet_never_imports_qt(args: list[str]) -> None:
    loaded = modules_after(*args)
    assert not loaded & set(QT), sorted(loaded & set(QT))
    # prometheus_client loads when a scrape is rendered, psutil never: both cost start-up.
    assert not loaded & {"prometheus_client", "psutil"}
