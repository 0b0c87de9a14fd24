"""Fixtures for ``resinspect run`` tests: programs under the real command, stopped after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import stopping
from tests.reach.helpers import RunApp


@pytest.fixture
def run_app(runtime_dir: Path) -> Iterator[Callable[..., RunApp]]:
    """``run_app(*args)``: ``resinspect run *args``, killed at the end if still running."""
    with stopping(lambda *args, **kwargs: RunApp(runtime_dir, *args, **kwargs)) as start:
        yield start
