"""What each command imports: nothing heavy it does not use, and never Qt.

Measured in a fresh interpreter each time (tests/cli_helpers.py, ``modules_after``).
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import modules_after, roots

HEAVY = ("PySide6", "shiboken6", "pyqtgraph", "prometheus_client", "numpy", "psutil")


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
