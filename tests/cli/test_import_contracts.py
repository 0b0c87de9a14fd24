"""The import contracts in pyproject.toml catch what matters: Qt in a command that is not
``view`` or ``demo``, and a lower layer importing the command line.

Each contract is checked, in-process, against the real import graph of ``src`` with one
import added - the change a careless edit would make - and must break; the graph as it is
must keep every contract (``lint-imports`` itself runs in tests/test_quality.py).
"""

from __future__ import annotations

import ast
import copy
import tomllib
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter.configuration import configure
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract

from tests.conftest import ROOT

_TYPES = {"layers": LayersContract, "forbidden": ForbiddenContract}


def _settings() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        settings: dict[str, Any] = tomllib.load(f)["tool"]["importlinter"]
    return settings


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    configure()  # import-linter's own settings (its contracts time their checks)
    settings = _settings()
    return grimp.build_graph(*settings["root_packages"], include_external_packages=True,
                             exclude_type_checking_imports=True)


def broken_contracts(graph: grimp.ImportGraph) -> list[str]:
    """Names of the built-in contracts (layers, forbidden) that ``graph`` breaks."""
    settings = _settings()
    session = {k: v for k, v in settings.items() if k != "contracts"}
    broken = []
    for options in settings["contracts"]:
        kind = _TYPES.get(options["type"])
        if kind is None:  # the Qt-submodule contract has tests of its own (test_quality)
            continue
        contract = kind(name=options["name"], session_options=session,
                        contract_options={k: v for k, v in options.items()
                                          if k not in ("name", "type")})
        if not contract.check(copy.deepcopy(graph), verbose=False).kept:
            broken.append(options["name"])
    return broken


def test_the_source_as_it_is_keeps_every_contract(graph: grimp.ImportGraph) -> None:
    assert broken_contracts(graph) == []


@pytest.mark.parametrize(("importer", "imported", "line", "contract"), [
    # Only `view` and `demo` may load Qt: QtCore in `top` slows every `resinspect top`.
    ("cli.commands.top", "PySide6", "from PySide6.QtCore import QObject", "never import Qt"),
    # The models sit below the command line: a model importing it is a cycle in the making.
    ("inspector.metrics.model", "cli", "import cli", "Layers"),
    ("inspector.metrics", "cli.render.top", "from cli.render.top import render_top", "Layers"),
    # The demo is handed the `top` renderer; importing it back is the old cycle.
    ("inspector.demo.summary", "cli.render.top", "from cli.render.top import render_top",
     "Layers"),
    # The server never reaches up into the dock.
    ("inspector.server.server", "inspector.ui.dock", "from inspector.ui.dock import X",
     "Layers"),
])
def test_a_forbidden_import_breaks_a_contract(graph: grimp.ImportGraph, importer: str,
                                              imported: str, line: str, contract: str) -> None:
    changed = copy.deepcopy(graph)
    changed.add_import(importer=importer, imported=imported, line_number=1,
                       line_contents=line)
    broken = broken_contracts(changed)
    assert any(contract in name for name in broken), broken


def private_imports(folder: Path) -> list[tuple[str, int]]:
    """(file, line) of every import, in ``folder``'s modules, of a private name or module
    (``_name``) of another module - what import-linter cannot see."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                names = [*(node.module or "").split("."), *(a.name for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [part for a in node.names for part in a.name.split(".")]
            else:
                continue
            if any(n.startswith("_") and not n.startswith("__") for n in names):
                found.append((str(path.relative_to(folder)), node.lineno))
    return found


def test_the_cli_imports_no_private_name(tmp_path: Path) -> None:
    assert private_imports(ROOT / "src" / "cli") == []
    # The check itself finds both kinds, and passes the rest.
    (tmp_path / "bad.py").write_text("from inspector.fleet import _signals\n"
                                     "from cli.render.top import _title\n"
                                     "import inspector.fleet._signals\n")
    (tmp_path / "good.py").write_text("from __future__ import annotations\nimport os\n"
                                      "from cli.render.top import render_top\n")
    assert private_imports(tmp_path) == [("bad.py", 1), ("bad.py", 2), ("bad.py", 3)]
