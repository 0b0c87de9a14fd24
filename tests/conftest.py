"""Shared test set-up: headless Qt before anything creates a QApplication, fresh services.

Every test that needs a resource service builds its own (the prometheus_client registry
pattern), so no state leaks between tests.
"""

from __future__ import annotations

import os

# Must precede any QApplication; `minimal` would render text as boxes in screenshots.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("RESINSPECT_LOG", "warning")

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"


@pytest.fixture
def service(qapp: object) -> Iterator[object]:
    """A fresh ResourceManagementService, shared by nothing else."""
    from inspector.resources import ResourceManagementService

    svc = ResourceManagementService()
    yield svc
    svc.cleanup_all()


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private XDG_RUNTIME_DIR, short enough for AF_UNIX paths (108 bytes), removed after."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="ri-", dir="/tmp"))
    path.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def python_env(runtime: Path | None = None) -> dict[str, str]:
    """Environment for a subprocess app: offscreen Qt, this checkout's sources first."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    if runtime is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


PYTHON = sys.executable


if TYPE_CHECKING:
    from tests.apps.harness import App


@pytest.fixture
def start_app(runtime_dir: Path) -> Iterator[Callable[..., App]]:
    """``start_app(*args, script=...)``: a real app process, stopped at the end of the test."""
    from tests.apps.harness import App

    apps: list[App] = []

    def start(*args: str, **kwargs: object) -> App:
        app = App(runtime_dir, *args, **kwargs)  # type: ignore[arg-type]
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


@pytest.fixture
def app(start_app: Callable[..., App]) -> App:
    """One tests/apps/tracked_app.py, running until the test ends."""
    return start_app()
