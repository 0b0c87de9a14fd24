"""Fixtures for ``resinspect run`` tests: programs under the real command, stopped after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reach.helpers import RunApp


@pytest.fixture
def run_app(runtime_dir: Path) -> Iterator[Callable[..., RunApp]]:
    """``run_app(*args)``: ``resinspect run *args``, killed at the end if still running."""
    apps: list[RunApp] = []

    def start(*args: str, **kwargs: object) -> RunApp:
        app = RunApp(runtime_dir, *args, **kwargs)  # type: ignore[arg-type]
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()
