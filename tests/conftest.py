"""Shared test set-up: headless Qt before anything creates a QApplication, fresh services.

Every test that needs a resource service builds its own (the prometheus_client registry
pattern), so no state leaks between tests.
"""

from __future__ import annotations

import os

# Must precede any QApplication; `minimal` would render text as boxes in screenshots.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("RESINSPECT_LOG", "warning")
# QSettings (the panel remembers its place per application) must never touch the user's real
# configuration: every test, and every app a test starts, keeps it in a private directory.
import tempfile

os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="ri-config-")

import signal

# A run started in the background by a shell without job control (`scripts/test.sh &`,
# nohup, a fresh-machine check) inherits SIGINT ignored; Python then leaves it ignored, and
# so does every process a test starts. The tests exercise what a user at a terminal has:
# Ctrl-C as KeyboardInterrupt here, and at its default in the apps and CLIs they start
# (a signal with a handler is reset to the default across exec; an ignored one is not).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    from inspector.metrics import MetricsModel
    from inspector.resources import ResourceManagementService
    from inspector.server import InspectorServer
    from tests.apps.harness import App
    from tests.cli_helpers import CliSeams, Outcome, Run
    from tests.server.conftest import RawConn

# pytester runs the pytest plugin's inner test sessions (tests/plugin).
pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"


@pytest.fixture
def service(qapp: object) -> Iterator[ResourceManagementService]:
    """A fresh ResourceManagementService, shared by nothing else."""
    from inspector.resources import ResourceManagementService

    svc = ResourceManagementService()
    yield svc
    svc.cleanup_all()


@pytest.fixture
def model(service: ResourceManagementService) -> Iterator[MetricsModel]:
    """A real, started MetricsModel on the test's own service (app name "test-app")."""
    from inspector.metrics import MetricsModel

    m = MetricsModel(service, app="test-app")
    m.start()
    yield m
    m.close()


@pytest.fixture
def server(model: MetricsModel, runtime_dir: Path) -> Iterator[InspectorServer]:
    """A started InspectorServer for ``model`` in the test's runtime directory."""
    from inspector.server import InspectorServer

    with InspectorServer(model) as srv:
        yield srv


@pytest.fixture
def raw(server: InspectorServer) -> Iterator[RawConn]:
    """A raw line connection to ``server``, for feeding it bad input."""
    from tests.server.conftest import RawConn

    conn = RawConn(server.path)
    yield conn
    conn.close()


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
    """Environment for a subprocess app: offscreen Qt, this checkout's sources first, and
    Python's fatal-error handler on, so that a crash leaves its threads' stacks on stderr."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONFAULTHANDLER"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    if runtime is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


PYTHON = sys.executable


def pump(until: Callable[[], bool], timeout: float) -> None:
    """Run the application's event loop until ``until()`` holds or ``timeout`` passes."""
    import time

    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    assert app is not None
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)


@pytest.fixture
def cli_seams() -> CliSeams:
    """The fakes ``run_cli`` passes to the CLI (none unless a test sets them)."""
    from tests.cli_helpers import CliSeams

    return CliSeams()


@pytest.fixture(name="run_cli")
def run_cli_fixture(cli_seams: CliSeams) -> Run:
    """``run_cli("diff", "a.json", "b.json")``: ``cli.main.main`` in CliRunner's isolation
    (tests/cli_helpers.py), given this test's :class:`CliSeams`."""
    from tests.cli_helpers import run_cli

    def run(*args: str, env: dict[str, str] | None = None) -> Outcome:
        return run_cli(*args, env=env, readers=cli_seams.readers)

    return run


class Stoppable(Protocol):
    """A process a test started: ``stop()`` ends it (and is harmless when it has ended)."""

    def stop(self) -> None: ...


P = TypeVar("P", bound=Stoppable)


@contextlib.contextmanager
def stopping(make: Callable[..., P]) -> Iterator[Callable[..., P]]:
    """``make`` as a starter whose every process is stopped when the block ends."""
    made: list[P] = []

    def start(*args: object, **kwargs: object) -> P:
        process = make(*args, **kwargs)
        made.append(process)
        return process

    try:
        yield start
    finally:
        failures: list[BaseException] = []
        for process in made:  # every one is stopped, even after one's stop failed
            try:
                process.stop()
            except BaseException as exc:  # noqa: BLE001 - pytest.fail's Failed included
                failures.append(exc)
        if failures:
            raise failures[0]


@pytest.fixture
def start_app(runtime_dir: Path) -> Iterator[Callable[..., App]]:
    """``start_app(*args, script=...)``: a real app process, stopped at the end of the test."""
    from tests.apps.harness import App

    with stopping(lambda *args, **kwargs: App(runtime_dir, *args, **kwargs)) as start:
        yield start


@pytest.fixture
def app(start_app: Callable[..., App]) -> App:
    """One tests/apps/tracked_app.py, running until the test ends."""
    return start_app()
