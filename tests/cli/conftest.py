"""Fixtures for the CLI: snapshots built by hand, a fake reader, and the CLI run in-process.

The CLI is run through ``cli.main.main`` (the console script's function), inside click's
``CliRunner`` isolation, so tests see exactly what a user sees: the streams and the status
that ``main`` produces after turning errors into one line.
"""

from __future__ import annotations

import functools
import io
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console, RenderableType

from cli.reader import Readers
from inspector.metrics.snapshot import (
    ComponentStats,
    LeakSuspect,
    ResourcePage,
    Snapshot,
    TypeStats,
)
from inspector.server.sidecar import AppInfo
from tests.cli_helpers import CliSeams

#: An ANSI escape sequence's start: plain output has none.
ANSI = re.compile(r"\x1b\[")


def text_of(renderable: RenderableType, width: int = 100) -> str:
    """What ``renderable`` prints on a plain console ``width`` columns wide."""
    console = Console(file=io.StringIO(), width=width)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def lines_with(text: str, needle: str) -> list[str]:
    """The lines of ``text`` that contain ``needle``."""
    return [line for line in text.splitlines() if needle in line]


LONG_ID = "MainWindow.tabs.ThumbnailBrowserTab#3.ThumbnailLoaderController.decoder_pool_worker"


def make_snapshot(**overrides: Any) -> Snapshot:
    """A realistic snapshot: 3 caches of 1000 bytes under CacheOwner, 2 running workers
    under WorkerOwner; any field can be overridden."""
    fields: dict[str, Any] = {
        "pid": 4242,
        "app": "tracked-app",
        "timestamp": time.time(),
        "uptime_s": 185.0,
        "created_total": 7,
        "destroyed_total": 2,
        "live_resources": 5,
        "tracked_bytes": 3000,
        "peak_tracked_bytes": 5000,
        "rss_bytes": 48 * 1024 * 1024,
        "peak_rss_bytes": 52 * 1024 * 1024,
        "active_workers": 2,
        "cache_bytes": 3000,
        "cache_entries": 3,
        "event_loop_lag_ms": 0.0,
        "gui_stack": [],
        "by_type": {
            "cache": TypeStats(live=3, created=5, destroyed=2, bytes=3000),
            "worker": TypeStats(live=2, created=2, destroyed=0, bytes=0),
        },
        "components": [
            ComponentStats(id="CacheOwner", type="cache_owner", live=3, bytes=3000,
                           alive=True, created=5, destroyed=2),
            ComponentStats(id="WorkerOwner", type="worker_owner", live=2, bytes=0,
                           alive=True, created=2),
        ],
        "leak_suspects": [],
    }
    fields.update(overrides)
    return Snapshot(**fields)


def blocked_snapshot(**overrides: Any) -> Snapshot:
    """The GUI thread stuck in ``freeze_for_a_while`` for 3.2 s."""
    fields: dict[str, Any] = {
        "event_loop_lag_ms": 3200.0,
        "event_loop_blocked": True,
        "gui_stack": [
            "<module> (/apps/tracked_app.py:120)",
            "main (/apps/tracked_app.py:98)",
            "freeze_for_a_while (/apps/tracked_app.py:61)",
        ],
    }
    fields.update(overrides)
    return make_snapshot(**fields)


def suspect(component: str = "CacheOwner", reason: str = "retained_after_cleanup",
            **overrides: Any) -> LeakSuspect:
    """A leak suspect with sensible defaults."""
    fields: dict[str, Any] = {"component_id": component, "resource_type": "cache",
                              "resource_id": "c17", "reason": reason, "age_s": 42.0}
    fields.update(overrides)
    return LeakSuspect(**fields)


class FakeReader:
    """A ``SnapshotReader`` serving prepared snapshots; ``fail`` is raised when streaming
    runs out (``None``: the stream just ends)."""

    def __init__(self, snapshots: Sequence[Snapshot], fail: BaseException | None = None
                 ) -> None:
        self.snapshots = list(snapshots)
        self.fail = fail
        self.current_calls = 0
        self.streamed = 0
        self.intervals: list[float] = []
        self.closed = False
        #: (pid, socket) of every open_reader call that returned this reader.
        self.targets: list[tuple[int | None, Path | None]] = []

    def get_current_snapshot(self) -> Snapshot:
        self.current_calls += 1
        return self.snapshots[0]

    def iter_snapshots(self, interval: float) -> Iterator[Snapshot]:
        self.intervals.append(interval)
        for snap in self.snapshots:
            self.streamed += 1
            yield snap
        if self.fail is not None:
            raise self.fail

    def resources(self, offset: int = 0, limit: int = 500, component_id: str | None = None
                  ) -> ResourcePage:
        return ResourcePage(total=0, offset=offset, items=[])

    def exited(self) -> int | None:
        return None  # as a killed application: its going away stays an error

    def close(self) -> None:
        self.closed = True


#: An application as discovery describes it from its sidecar: the real ``AppInfo``.
FakeApp = functools.partial(AppInfo, protocol=1)


@pytest.fixture
def fake_reader(cli_seams: CliSeams) -> Callable[..., FakeReader]:
    """Hand ``run_cli``'s CLI a FakeReader for every application it opens (click's
    ``ctx.obj``); the reader records each target."""

    def install(snapshots: Sequence[Snapshot] | None = None,
                fail: BaseException | None = None) -> FakeReader:
        reader = FakeReader(snapshots or [make_snapshot()], fail)

        def open_reader(pid: int | None, socket: Path | None) -> FakeReader:
            reader.targets.append((pid, socket))
            return reader

        cli_seams.readers = Readers(open=open_reader)
        return reader

    return install


FailingOpen = Callable[[BaseException], None]
FakeApps = Callable[[Sequence[AppInfo]], None]


@pytest.fixture
def failing_open(cli_seams: CliSeams) -> FailingOpen:
    """``failing_open(error)``: every application the CLI opens raises ``error``."""

    def install(error: BaseException) -> None:
        def open_reader(pid: int | None, socket: Path | None) -> FakeReader:
            raise error

        cli_seams.readers = Readers(open=open_reader)

    return install


@pytest.fixture
def fake_apps(cli_seams: CliSeams) -> FakeApps:
    """``fake_apps([...])``: what the CLI's discovery (``ls``) finds."""

    def install(apps: Sequence[AppInfo]) -> None:
        cli_seams.readers = Readers(list_apps=lambda: apps)

    return install
