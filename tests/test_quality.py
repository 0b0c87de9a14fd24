"""ruff, mypy (strict) and the import contracts are part of the test suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(tool, path=str(BIN)) or shutil.which(tool)
    assert exe, f"{tool} is not installed (the test extra installs it)"
    return subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_ruff_is_clean() -> None:
    done = run("ruff", "check", "src", "tests", "bench")
    assert done.returncode == 0, done.stdout[-4000:]


def test_mypy_strict_is_clean() -> None:
    done = run("mypy")
    assert done.returncode == 0, done.stdout[-4000:]


def test_import_contracts_are_kept() -> None:
    done = run("lint-imports")
    assert done.returncode == 0, done.stdout[-4000:]
    assert "0 broken" in done.stdout


def _contract(**options: object) -> object:
    from tests.import_contracts import ForbiddenSubmodulesContract

    return ForbiddenSubmodulesContract(
        name="test", session_options={"root_packages": ["pkg"]},
        contract_options={k: v for k, v in options.items()})


@pytest.mark.parametrize(("line", "kept"), [
    ("from PySide6.QtCore import QObject", True),
    ("from PySide6.QtWidgets import QWidget", False),
    ("from PySide6 import QtCore, QtGui", False),
    ("import PySide6.QtGui", False),
])
def test_the_qt_contract_can_fail(line: str, kept: bool) -> None:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.models", "pkg.models.core", "pkg.ui", "PySide6"):
        graph.add_module(module, is_squashed=module == "PySide6")
    graph.add_import(importer="pkg.models.core", imported="PySide6", line_number=3,
                     line_contents=line)
    contract = _contract(source_modules=["pkg.models"], forbidden=["PySide6.QtWidgets",
                                                                   "PySide6.QtGui"])
    assert contract.check(graph, verbose=False).kept is kept  # type: ignore[attr-defined]


def test_the_qt_contract_follows_internal_chains() -> None:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.models", "pkg.helpers", "pkg.ui", "PySide6"):
        graph.add_module(module, is_squashed=module == "PySide6")
    graph.add_import(importer="pkg.ui", imported="PySide6", line_number=1,
                     line_contents="from PySide6.QtWidgets import QDockWidget")
    graph.add_import(importer="pkg.helpers", imported="pkg.ui", line_number=1,
                     line_contents="from pkg import ui")
    graph.add_import(importer="pkg.models", imported="pkg.helpers", line_number=1,
                     line_contents="from pkg import helpers")
    broken = _contract(source_modules=["pkg.models"], forbidden=["PySide6.QtWidgets"])
    check = broken.check(graph, verbose=False)  # type: ignore[attr-defined]
    assert not check.kept
    assert "pkg.models -> pkg.helpers -> pkg.ui" in check.metadata["broken"][0]
    allowed = _contract(source_modules=["pkg.models"], forbidden=["PySide6.QtWidgets"],
                        allowed_importers=["pkg.helpers"])
    assert allowed.check(graph, verbose=False).kept  # type: ignore[attr-defined]
