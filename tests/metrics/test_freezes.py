"""The model's freezes part: the hang log read out, and the stall watchdog's file."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inspector.metrics.freezes import Freezes
from inspector.metrics.hangs.stallfile import read_stall_file
from inspector.metrics.probe import LoopProbe

from .helpers import pump


@pytest.fixture
def probe(qapp: Any) -> Iterator[LoopProbe]:
    p = LoopProbe(hang_threshold_ms=300.0)
    yield p
    p.stop()


def test_an_empty_log_reads_as_zeros(probe: LoopProbe) -> None:
    freezes = Freezes(probe)
    assert freezes.threshold_ms == 300.0
    assert freezes.report() == {"hangs": [], "count": 0, "total_ms": 0.0, "max_ms": 0.0,
                                "threshold_ms": 300.0, "by_function": [],
                                "stalled_ms": 0.0}
    assert freezes.snapshot_fields() == {"hangs": [], "hang_count": 0, "hang_total_ms": 0.0,
                                         "hang_max_ms": 0.0, "hang_threshold_ms": 300.0}


def test_the_stall_file_needs_a_heartbeat_and_goes_when_unwatched(
        probe: LoopProbe, tmp_path: Path) -> None:
    freezes = Freezes(probe)
    path = tmp_path / "1.stall"
    assert not freezes.watch(path)  # no GUI thread known yet
    assert not path.exists()
    probe.start()
    assert freezes.watch(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    watchdog = probe.hangs.watchdog
    assert freezes.watch(path)  # already watching: the same watchdog
    assert probe.hangs.watchdog is watchdog
    # The monitor's thread arms it once the loop has turned: the header appears.
    pump(lambda: read_stall_file(path) is not None, 5)
    report = read_stall_file(path)
    assert report is not None
    assert report.pid == os.getpid()
    freezes.unwatch()
    assert probe.hangs.watchdog is None
    assert not path.exists()
    freezes.unwatch()  # idempotent


def test_a_stall_file_that_cannot_be_made_is_no_watch(probe: LoopProbe, tmp_path: Path
                                                      ) -> None:
    probe.start()
    assert not Freezes(probe).watch(tmp_path / "missing-directory" / "1.stall")
    assert probe.hangs.watchdog is None
