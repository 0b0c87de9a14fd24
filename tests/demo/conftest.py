"""Fixtures for the demo's tests: a small data set, a fresh service and model, a window.

Every test gets its own ResourceManagementService (never the process's shared one) and a
MetricsModel with short leak thresholds, so a planted defect shows up in well under a second.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from inspector.demo.dataset import Dataset
from inspector.demo.debug import let_stubborn_workers_go
from inspector.demo.window import DemoWindow
from inspector.metrics.model import MetricsModel
from inspector.metrics.snapshot import LeakSuspect, Snapshot
from inspector.metrics.suspects import SuspectPolicy
from inspector.resources import ResourceManagementService, orphaned_workers

#: Thresholds for tests: retained after 0.3 s, orphaned after 0.2 s, growth over 3 windows.
FAST = SuspectPolicy(retained_after_s=0.3, orphan_grace_s=0.2, growth_window_s=0.45,
                     growth_windows=3)


def flush_deletes() -> None:
    """Carry out pending ``deleteLater`` calls, as the event loop would."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Turn the event loop until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        QApplication.processEvents()
        time.sleep(0.01)


def suspects(snapshot: Snapshot, reason: str, component_id: str) -> list[LeakSuspect]:
    """The suspects of ``reason`` owned by ``component_id``."""
    return [s for s in snapshot.leak_suspects
            if s.reason == reason and s.component_id == component_id]


@pytest.fixture(scope="session")
def dataset(qapp: QApplication, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """A small generated data set (about 0.9 MiB), shared by the tests."""
    return Dataset.create(tmp_path_factory.mktemp("evidence"), scale=0.1)


@pytest.fixture
def model(service: ResourceManagementService) -> Iterator[MetricsModel]:
    """A started model over the test's service, sampling every 0.1 s, with FAST thresholds."""
    m = MetricsModel(service, app="demo-test", policy=FAST, sample_interval_s=0.1)
    m.start()
    yield m
    m.close()


@pytest.fixture
def make_window(dataset: Dataset, service: ResourceManagementService
                ) -> Iterator[Callable[..., DemoWindow]]:
    """``make_window(io_delay_s=0.0, open_tabs=False)``: a window over the test's service,
    shut down and deleted at the end of the test."""
    made: list[DemoWindow] = []

    def factory(io_delay_s: float = 0.0, open_tabs: bool = False) -> DemoWindow:
        window = DemoWindow(dataset, service=service, io_delay_s=io_delay_s,
                            open_tabs=open_tabs)
        made.append(window)
        return window

    yield factory
    for window in made:
        with contextlib.suppress(RuntimeError):
            window.shutdown()
            window.deleteLater()
    flush_deletes()


@pytest.fixture(autouse=True)
def no_stubborn_leftovers() -> Iterator[None]:
    """Whatever a test planted, no stubborn worker outlives it."""
    yield
    let_stubborn_workers_go()
    for worker in orphaned_workers():
        worker.wait(5000)


def case_files(directory: Path) -> dict[str, bytes]:
    """Name → contents of the files in ``directory``."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}
