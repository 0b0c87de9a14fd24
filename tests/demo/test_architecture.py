"""The seed's success metric: zero resource tracking in tabs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import inspector.demo.tabs

TABS = Path(inspector.demo.tabs.__file__).parent
#: What only a controller or a coordinator may say: tracking, the service, registrations.
FORBIDDEN = re.compile(r"track|get_service|register_|ResourceType|\bservice\b|coordinator",
                       re.IGNORECASE)


def forbidden_lines(source: str) -> list[str]:
    """The lines of ``source`` that mention resource bookkeeping."""
    return [line.strip() for line in source.splitlines() if FORBIDDEN.search(line)]


def test_the_tab_modules_are_found() -> None:
    names = {p.name for p in TABS.glob("*.py")}
    assert {"media.py", "hashing.py", "copy_verify.py", "workflow.py", "base.py"} <= names


@pytest.mark.parametrize("path", sorted(TABS.glob("*.py")), ids=lambda p: p.name)
def test_tabs_contain_no_resource_tracking(path: Path) -> None:
    assert forbidden_lines(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("line", [
    "self.controller.resources.track_widget(self.view)",
    "self._resource_manager = get_service(IResourceManagementService)",
    "svc.register_component(self, 'MediaAnalysisTab', 'tab')",
    "svc.track_resource(self, ResourceType.CUSTOM, self.controller)",
])
def test_the_check_catches_the_seeds_anti_pattern(line: str) -> None:
    assert forbidden_lines(f"x = 1\n{line}\n") == [line]
