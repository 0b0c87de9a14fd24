"""Fixtures and sizing for the reliability suite (issue 7).

Every test here proves one property the way the projects it is modelled on prove theirs
(systemd's varlink, tmux, PostgreSQL's socket lock, OpenTelemetry's concurrency tests,
CPython's refleak runs, pyqtgraph's reference-cycle tests), and records the figures it
measured.

Sizes: by default each test runs at a size that keeps this folder near three minutes on two
cores; ``RESINSPECT_HEAVY=1`` (or ``--heavy`` when this folder is on the command line) runs
the full sizes of the issue and writes every figure to ``tests/reliability/FIGURES.md``.
Tests whose size changes with the flag carry the ``slow`` marker.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent

#: Figures measured by each test: {test name: {figure: value}}, printed at the end of the run.
FIGURES: dict[str, dict[str, object]] = {}
#: Each of this folder's tests' outcome ("passed", "failed", "skipped"), for FIGURES.md.
OUTCOMES: dict[str, str] = {}
#: This folder's test files that ran, and whether any of its tests were deselected: FIGURES.md
#: is the record of a whole heavy run, so a partial one (``-k``, one file) leaves it alone.
RAN_FILES: set[str] = set()
DESELECTED: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    # Registered here, this option exists when tests/reliability is named on the command line
    # (pytest loads a folder's conftest.py at start-up only then); RESINSPECT_HEAVY=1 works
    # from anywhere. A root conftest.py may register it too: then this one steps aside.
    with contextlib.suppress(ValueError):
        parser.addoption("--heavy", action="store_true", default=False,
                         help="run the reliability suite at its full (slow) sizes")


def heavy(config: pytest.Config | None = None) -> bool:
    """Whether the full sizes were asked for (``--heavy`` or ``RESINSPECT_HEAVY=1``)."""
    if os.environ.get("RESINSPECT_HEAVY", "").strip() not in ("", "0"):
        return True
    if config is None:
        return False
    try:
        return bool(config.getoption("--heavy"))
    except ValueError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A heavy run's slow tests take minutes each: lift the project's 120 s per-test timeout
    # for them (only in this folder), never for the default run.
    if not heavy(config):
        return
    for item in items:
        if HERE in Path(str(item.fspath)).parents and item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.timeout(900))


@pytest.fixture(scope="session")
def is_heavy(pytestconfig: pytest.Config) -> bool:
    """True in a heavy run."""
    return heavy(pytestconfig)


@pytest.fixture(scope="session")
def size(is_heavy: bool) -> Callable[[Any, Any], Any]:
    """``size(default, heavy_value)``: the value for this run."""

    def pick(default: Any, full: Any) -> Any:
        return full if is_heavy else default

    return pick


@pytest.fixture
def figure(request: pytest.FixtureRequest,
           record_property: Callable[[str, object], None]) -> Callable[[str, object], None]:
    """``figure(name, value)``: record a measured figure (junit property and summary)."""
    name = request.node.name

    def record(key: str, value: object) -> None:
        if isinstance(value, float):
            value = round(value, 4)
        FIGURES.setdefault(name, {})[key] = value
        record_property(key, value)

    return record


def pytest_deselected(items: list[pytest.Item]) -> None:
    DESELECTED.extend(i.nodeid for i in items if HERE in Path(str(i.fspath)).parents)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if HERE.name not in path:
        return
    RAN_FILES.add(Path(path).name)
    name = report.nodeid.split("::")[-1]
    if report.when == "call" or report.outcome != "passed":
        OUTCOMES[name] = report.outcome


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for test, figures in FIGURES.items():
        shown = ", ".join(f"{k}={v}" for k, v in figures.items())
        terminalreporter.write_line(f"{test}: {shown}")
    if not heavy(config):
        return
    missing = {p.name for p in HERE.glob("test_*.py")} - RAN_FILES
    if DESELECTED or missing:
        terminalreporter.write_line(
            f"{HERE / 'FIGURES.md'} left alone: a partial run "
            f"({len(DESELECTED)} deselected, {len(missing)} files not run)")
        return
    _write_figures_md(HERE / "FIGURES.md")
    terminalreporter.write_line(f"written to {HERE / 'FIGURES.md'}")


def _write_figures_md(path: Path) -> None:
    try:
        import PySide6

        pyside = PySide6.__version__
    except ImportError:  # pragma: no cover - a dependency
        pyside = "?"
    lines = [
        "# Reliability figures (heavy run)",
        "",
        f"Written by `RESINSPECT_HEAVY=1 pytest tests/reliability` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}, PySide6 {pyside}, "
        f"{platform.system()} {platform.release()}.",
        "",
        "| test | result | figures |",
        "| --- | --- | --- |",
    ]
    for test in sorted(set(FIGURES) | set(OUTCOMES)):
        shown = "<br>".join(f"{k} = {v}" for k, v in FIGURES.get(test, {}).items())
        lines.append(f"| `{test}` | {OUTCOMES.get(test, '?')} | {shown} |")
    # Hand-written sections after the marker (the hardening table) survive a rewrite.
    kept = ""
    if path.exists():
        old = path.read_text()
        at = old.find(KEPT_MARKER)
        if at >= 0:
            kept = "\n" + old[at:]
    path.write_text("\n".join(lines) + "\n" + kept)


#: Where the hand-written part of FIGURES.md begins; a heavy run rewrites only what is above.
KEPT_MARKER = "<!-- kept across heavy runs -->"


# -- in-process server fixtures: model, server and raw are in tests/conftest.py ------------


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> None:
    """Free earlier tests' garbage here, on the main thread (see tests/server/conftest.py:
    a QObject freed by the cyclic GC on the server's or sampler's thread can crash Qt)."""
    gc.collect()


# -- process accounting -----------------------------------------------------------------


def open_fds(pid: int | None = None) -> int:
    """How many file descriptors a process has open now (Linux /proc)."""
    return len(os.listdir(f"/proc/{pid or os.getpid()}/fd"))


def open_sockets(pid: int | None = None) -> set[str]:
    """The sockets a process has open now, by kernel name (``socket:[inode]``).

    Leak checks compare these rather than a count of every descriptor: other parts of the
    process (Qt's font and platform code, a previous test's objects finalised late) open and
    close files of their own at any moment, which made exact counts flaky in a full run.
    """
    folder = f"/proc/{pid or os.getpid()}/fd"
    found = set()
    for fd in os.listdir(folder):
        with contextlib.suppress(OSError):  # closed between the listing and the read
            target = os.readlink(f"{folder}/{fd}")
            if target.startswith("socket:"):
                found.add(target)
    return found


def native_threads(pid: int | None = None) -> int:
    """How many OS threads a process has (Qt's and Python's alike)."""
    return len(os.listdir(f"/proc/{pid or os.getpid()}/task"))


def native_thread_names(pid: int | None = None) -> list[str]:
    """The OS threads' names (``comm``), to say which thread a count found too many."""
    names = []
    for tid in sorted(os.listdir(f"/proc/{pid or os.getpid()}/task")):
        with contextlib.suppress(OSError):
            names.append(Path(f"/proc/{pid or os.getpid()}/task/{tid}/comm").read_text().strip())
    return names


def settle(predicate: Callable[[], bool], timeout: float = 5.0, step: float = 0.01) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def thread_dump() -> str:
    """Every Python thread's stack, for the message of a test that found a deadlock."""
    import traceback

    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        parts.append(f"--- {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame)))
    return "\n".join(parts)
