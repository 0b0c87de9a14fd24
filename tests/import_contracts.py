"""A custom import-linter contract: forbid submodules of an external package.

import-linter sees an external package as one node (``PySide6``), so its own ``forbidden``
contract cannot tell QtCore (allowed in the models) from QtWidgets (only in ``inspector.ui``
and ``inspector.demo``). grimp keeps each import's source line, which names the submodule;
this contract reads those lines and follows internal import chains to them.

Configured in pyproject.toml as ``type = "forbidden_submodules"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from importlinter import Contract, ContractCheck, fields, output


class ForbiddenSubmodulesContract(Contract):
    """``source_modules`` must not reach ``forbidden`` (``Package.sub``), directly or through
    internal modules; ``allowed_importers`` are internal modules that may (they are not
    followed)."""

    type_name = "forbidden_submodules"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    forbidden = fields.ListField(subfield=fields.StringField())
    allowed_importers = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        forbidden = [str(f) for f in self.forbidden]  # type: ignore[attr-defined]
        allowed = {str(a) for a in cast("Iterable[object]", self.allowed_importers or [])}
        patterns = {f: _pattern(f) for f in forbidden}
        # Internal modules that import a forbidden submodule themselves.
        offenders: dict[str, list[str]] = {}
        for module in graph.modules:
            for package in {f.split(".")[0] for f in forbidden}:
                if package not in graph.find_modules_directly_imported_by(module):
                    continue
                for detail in graph.get_import_details(importer=module, imported=package):
                    for name, pattern in patterns.items():
                        if pattern.search(detail["line_contents"]):
                            offenders.setdefault(module, []).append(
                                f"{module}:{detail['line_number']} imports {name}")
        broken: list[str] = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            root = source.name
            members = {root} | set(graph.find_descendants(root))
            for module in sorted(members):
                if module in allowed:
                    continue
                if module in offenders:
                    broken.extend(offenders[module])
                for offender in offenders:
                    if offender in members or offender == module:
                        continue
                    chain = graph.find_shortest_chain(importer=module, imported=offender)
                    if chain and not allowed.intersection(chain):
                        broken.append(" -> ".join(chain) + f" ({offenders[offender][0]})")
        return ContractCheck(kept=not broken, metadata={"broken": sorted(set(broken))})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in (check.metadata or {}).get("broken", []):
            output.print_error(line, bold=False)
            output.new_line()


def _pattern(name: str) -> re.Pattern[str]:
    package, _, sub = name.partition(".")
    return re.compile(
        rf"\b{re.escape(name)}\b|\bfrom\s+{re.escape(package)}\s+import\b.*\b{re.escape(sub)}\b")
