"""The fleet modules and their commands stay free of Qt, and light where they can be.

Measured in a fresh interpreter (tests/cli_helpers.py, ``modules_after``).
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import modules_after, roots

QT = ("PySide6", "shiboken6", "pyqtgraph")
FLEET = ("inspector.fleet.recording", "inspector.fleet.diff", "inspector.fleet.budgets",
         "inspector.fleet.exporter", "inspector.fleet.signals")


@pytest.mark.parametrize("args", [
    ["record", "-o", "/nonexistent-dir/x.ndjson"],
    ["diff", "/nonexistent.json", "--fail-on", "live>0"],
    ["exporter", "--listen", "bad"],
    ["top", "--replay", "/nonexistent.ndjson"],
])
def test_fleet_never_imports_qt(args: list[str]) -> None:
    _, modules = modules_after(*args, preload=FLEET)
    loaded = roots(modules)
    assert not loaded & set(QT), sorted(loaded & set(QT))
    # prometheus_client loads when a scrape is rendered, psutil never: both cost start-up.
    assert not loaded & {"prometheus_client", "psutil"}
