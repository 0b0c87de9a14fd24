"""Fixtures for time and fleet: hand-built snapshots and real app processes (the CLI runs
in-process through the `run_cli` fixture of tests/conftest.py).

Real applications are ``tests/apps/tracked_app.py`` (3 caches of 1000 bytes under
``CacheOwner``, 2 running workers under ``WorkerOwner``: 5 live resources) and
``tests/fleet/growing_app.py`` (tabs opened, closed and leaked on command), each started as
its own process with the test's private ``XDG_RUNTIME_DIR``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from inspector.metrics.snapshot import (
    ComponentStats,
    LeakSuspect,
    Marker,
    Snapshot,
    TypeStats,
    WorkerInfo,
)
from tests.apps.harness import RESINSPECT, TRACKED_APP, App, resinspect
from tests.cli_helpers import Outcome, Run, assert_one_line_error
from tests.conftest import ROOT, python_env

__all__ = ["GROWING_APP", "TRACKED_APP", "App", "Outcome", "Run", "assert_one_line_error",
           "resinspect"]

GROWING_APP = Path(__file__).resolve().parent / "growing_app.py"


# -- snapshots built by hand -----------------------------------------------------------------


def comp(cid: str, live: int, size: int = 0, *, alive: bool = True,
         ctype: str = "controller") -> ComponentStats:
    """A component row."""
    return ComponentStats(id=cid, type=ctype, live=live, bytes=size, alive=alive,
                          created=live)


def worker(component_id: str, resource_id: str = "w1", *, running: bool = True) -> WorkerInfo:
    """A tracked worker."""
    return WorkerInfo(resource_id=resource_id, component_id=component_id, running=running,
                      age_s=1.0)


def suspect(component_id: str, resource_id: str = "r1", *, reason: str = "orphan_worker",
            resource_type: str = "worker", age_s: float = 10.0) -> LeakSuspect:
    """A leak suspect."""
    return LeakSuspect(component_id=component_id, resource_type=resource_type,
                       resource_id=resource_id, reason=reason, age_s=age_s)


def make_snapshot(**overrides: Any) -> Snapshot:
    """A small consistent snapshot; any field can be overridden."""
    fields: dict[str, Any] = {
        "pid": 4242, "app": "media-app", "timestamp": 1_700_000_000.0, "uptime_s": 10.0,
        "created_total": 5, "destroyed_total": 0, "live_resources": 5, "tracked_bytes": 3000,
        "peak_tracked_bytes": 3000, "rss_bytes": 50_000_000, "peak_rss_bytes": 50_000_000,
        "active_workers": 2, "cache_bytes": 3000, "cache_entries": 3,
        "event_loop_lag_ms": 0.0, "gui_stack": [],
        "by_type": {"cache": TypeStats(live=3, created=3, destroyed=0, bytes=3000),
                    "worker": TypeStats(live=2, created=2, destroyed=0, bytes=0)},
        "components": [comp("CacheOwner", 3, 3000, ctype="cache_owner"),
                       comp("WorkerOwner", 2, ctype="worker_owner")],
        "leak_suspects": [],
        "workers": [worker("WorkerOwner", "w1"), worker("WorkerOwner", "w2")],
    }
    fields.update(overrides)
    return Snapshot(**fields)


def markers(*items: tuple[float, str, str]) -> list[Marker]:
    """``(t, kind, component_id)`` tuples as markers."""
    return [Marker(t=t, kind=kind, component_id=cid) for t, kind, cid in items]


def write_recording(path: Path, snapshots: list[Snapshot]) -> Path:
    """``snapshots`` as ``resinspect record`` writes them."""
    path.write_bytes(b"".join(s.to_json() + b"\n" for s in snapshots))
    return path


# -- real processes (tests/apps/harness.py starts them; start_app is in tests/conftest.py) ----


def spawn_resinspect(runtime: Path, *args: str) -> subprocess.Popen[str]:
    """Start the real ``resinspect`` with ``args``, without waiting for it."""
    return subprocess.Popen([*RESINSPECT, *args], env=python_env(runtime), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
