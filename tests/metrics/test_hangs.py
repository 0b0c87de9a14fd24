"""The hang log: merging rules, the bounded log, the stall file and its watchdog, and the
monitor against a real event loop stalled in named functions."""

from __future__ import annotations

import ctypes
import faulthandler
import json
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PySide6.QtCore import QCoreApplication, QTimer

from inspector.metrics import MetricsModel
from inspector.metrics.hangs import (
    STALL_HEADER,
    UNOBSERVED,
    HangLog,
    StallWatchdog,
    merge_stall,
    parse_dump,
    parse_frame,
    read_stall_file,
    stall_start,
)
from inspector.metrics.snapshot import Hang
from inspector.resources import ResourceManagementService

SCHEMA_FILE = (Path(__file__).resolve().parents[2] / "src" / "inspector" / "metrics"
               / "snapshot.schema.json")

LOOP = ("<module> (app.py:90)", "main (app.py:80)")
A = (*LOOP, "on_import (app.py:40)", "rebuild_index (index.py:88)")
A2 = (*LOOP, "on_import (app.py:40)", "rebuild_index (index.py:91)")
B = (*LOOP, "on_import (app.py:41)", "parse (parse.py:12)")
LATER = (*LOOP, "on_click (app.py:60)")


def ms(hang: Hang) -> dict[str, float]:
    return {f.frame: f.ms for f in hang.where}


# -- merging ------------------------------------------------------------------------------------


def test_a_stall_says_where_its_time_went_by_function() -> None:
    # 3 s: samples every 0.5 s, 4 in rebuild_index (two different lines), 2 in parse.
    points = [(t, s, False) for t, s in [(0.0, A), (0.5, A2), (1.0, A), (1.5, A2),
                                        (2.0, B), (2.5, B)]]
    hang = merge_stall(0.0, 3.0, 1000.0, points, base=LOOP)
    assert hang.duration_ms == 3000.0
    assert hang.started == 1000.0
    assert hang.samples == 6
    where = ms(hang)
    # The line shown is the most sampled one; callers carry their callees' time.
    assert where["on_import (app.py:40)"] == 3000.0
    assert where["rebuild_index (index.py:88)"] == 2000.0
    assert where["parse (parse.py:12)"] == 1000.0
    assert next(f.frame for f in hang.where) == "on_import (app.py:40)"  # most first
    assert {f.frame: f.depth for f in hang.where}["rebuild_index (index.py:88)"] == 1
    assert not any(f.frame.startswith(("main", "<module>")) for f in hang.where)
    assert hang.stack in (list(A), list(A2))  # a sample seen most, whole
    assert not hang.native


def test_without_a_known_loop_base_the_shared_trunk_is_cut_to_its_deepest_frame() -> None:
    hang = merge_stall(0.0, 1.0, 0.0, [(0.0, A, False), (0.5, B, False)])
    assert [f.frame for f in hang.where if f.depth == 0] == ["on_import (app.py:40)"]


def test_time_nobody_could_observe_goes_to_the_watchdogs_dump_not_to_what_ran_next() -> None:
    # Native code held the GIL from the start: the monitor's only sample came at 3.95 s,
    # late, in whatever ran once the GIL was back. The watchdog dumped at 0.5 s.
    hang = merge_stall(0.0, 4.0, 0.0, [(3.95, LATER, True)], dump=(list(A), 0.5), base=LOOP)
    assert hang.native
    assert hang.stack == list(A)
    assert ms(hang)["rebuild_index (index.py:88)"] == 3950.0
    assert ms(hang)["on_click (app.py:60)"] == 50.0


def test_without_a_dump_unobserved_time_is_said_to_be_unobserved() -> None:
    hang = merge_stall(0.0, 4.0, 0.0, [(3.95, LATER, True)], base=LOOP)
    assert hang.native
    assert hang.where[0].frame == UNOBSERVED
    assert hang.where[0].ms == 3950.0
    assert hang.stack == []  # what ran next is not where the stall was


def test_a_gap_after_an_observed_sample_goes_to_the_frame_that_entered_native_code() -> None:
    hang = merge_stall(0.0, 2.0, 0.0, [(0.1, A, False), (1.9, LATER, True)], base=LOOP)
    assert ms(hang)["rebuild_index (index.py:88)"] == 1900.0
    assert hang.native  # most of it was seen by nobody


def test_stall_start_is_dated_by_cpu_time_when_that_fits_else_mid_interval() -> None:
    assert stall_start(10.0, 10.35, 0.05, cpu=0.30) == pytest.approx(10.05)
    # Half a core during the stall: 0.15 s of CPU stand for 0.3 s.
    assert stall_start(10.0, 10.35, 0.05, cpu=0.15, rate=0.5) == pytest.approx(10.05)
    assert stall_start(10.0, 10.35, 0.05, cpu=0.0) == pytest.approx(10.025)  # asleep


def test_parse_frame_round_trips_and_keeps_odd_text() -> None:
    assert parse_frame("run (/a (b)/x.py:12)") == ("run", "/a (b)/x.py", 12)
    assert parse_frame("(native code)") == ("(native code)", "", 0)


# -- the log --------------------------------------------------------------------------------------


def test_the_log_keeps_the_last_stalls_and_whole_run_totals() -> None:
    log = HangLog(size=3)
    for index in range(5):
        log.add(Hang(started=float(index), duration_ms=100.0 * (index + 1),
                     stack=[f"f{index % 2} (x.py:{index})"]))
    assert [h.started for h in log.recent()] == [2.0, 3.0, 4.0]
    assert log.totals() == (5, 1500.0, 500.0)
    by = {e["frame"]: (e["count"], e["ms"]) for e in log.by_function()}
    assert by == {"f0 (x.py)": (3, 900.0), "f1 (x.py)": (2, 600.0)}


# -- the stall file -------------------------------------------------------------------------------


def test_parse_dump_reads_what_faulthandler_writes(tmp_path: Path) -> None:
    path = tmp_path / "dump"

    def inner_named_function() -> None:
        with open(path, "w") as f:
            faulthandler.dump_traceback(f, all_threads=True)

    inner_named_function()
    stacks = parse_dump(path.read_text())
    mine = stacks[threading.get_ident()]
    assert mine[-1].startswith("inner_named_function (")  # innermost last
    line = inner_named_function.__code__.co_firstlineno + 2
    assert mine[-1].endswith(f"{Path(__file__)}:{line})")


def test_the_watchdog_dumps_a_thread_stuck_without_a_heartbeat(tmp_path: Path) -> None:
    path = tmp_path / "1.stall"
    watchdog = StallWatchdog(path, threading.get_ident(), "MainThread",
                             threading.main_thread().native_id, timeout_s=0.2)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert watchdog.rearm(time.monotonic()) is None
        report = read_stall_file(path)
        assert report is not None
        assert not report.fired
        assert report.pid == os.getpid()

        def fired() -> bool:
            found = read_stall_file(path)
            return found is not None and found.fired

        def stuck_here() -> None:
            deadline = time.monotonic() + 5
            while not fired() and time.monotonic() < deadline:
                time.sleep(0.02)

        stuck_here()
        report = read_stall_file(path)
        assert report is not None
        assert report.fired
        assert any(f.startswith("stuck_here (") for f in report.gui_stack)
        verdict = report.verdict()
        assert verdict.startswith("not answering: the GIL is held by a native call on thread ")
        assert "last Python frame " in verdict
        # Re-arming hands the dump over (with when it fired) and clears the file.
        dumped = watchdog.rearm(time.monotonic())
        assert dumped is not None
        assert "stuck_here" in dumped[0]
        assert os.path.getsize(path) == STALL_HEADER
    finally:
        watchdog.close()
    assert not path.exists()


def test_the_newest_watchdog_has_faulthandler(tmp_path: Path) -> None:
    ident = threading.get_ident()
    first = StallWatchdog(tmp_path / "1.stall", ident, "MainThread", None, timeout_s=0.2)
    second = StallWatchdog(tmp_path / "2.stall", ident, "MainThread", None, timeout_s=0.2)
    try:
        assert not first.active
        assert second.active
        assert first.rearm(time.monotonic()) is None  # no longer arms faulthandler
        second.rearm(time.monotonic())
        first.close()  # and does not disarm the newest when it closes
        assert wait_until(lambda: (r := read_stall_file(tmp_path / "2.stall")) is not None
                          and r.fired)
    finally:
        first.close()
        second.close()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_stall_file_that_is_not_one_reads_as_none(tmp_path: Path) -> None:
    assert read_stall_file(tmp_path / "missing.stall") is None
    (tmp_path / "junk.stall").write_bytes(b"\x00garbage" * 10)
    assert read_stall_file(tmp_path / "junk.stall") is None


# -- the monitor on a real event loop -------------------------------------------------------------


def pump(until: Callable[[], bool], timeout: float) -> None:
    app = QCoreApplication.instance()
    assert app is not None
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)


def spin_for_half_a_second() -> None:
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end:
        pass


def test_a_real_stall_is_logged_with_its_function_and_duration(
        qapp: Any, service: ResourceManagementService) -> None:
    model = MetricsModel(service, hang_threshold_ms=200)
    model.start()
    try:
        pump(lambda: model.probe.beat.base is not None, 5)
        pump(lambda: False, 0.3)  # a few quiet beats
        before = model.hangs()["count"]  # (set-up before the first beat may count as one)
        QTimer.singleShot(0, spin_for_half_a_second)
        pump(lambda: model.hangs()["count"] > before, 10)
        reply = model.hangs()
        assert reply["count"] == before + 1
        hang = reply["hangs"][-1]
        assert 450 <= hang.duration_ms <= 550
        assert hang.samples >= 10
        top = {f.frame.split(" (")[0]: f.ms for f in hang.where}
        assert top["spin_for_half_a_second"] >= 0.8 * hang.duration_ms
        assert reply["max_ms"] >= hang.duration_ms
        snap = model.snapshot()
        assert snap.hang_count == before + 1
        assert snap.hangs[-1] == hang
        jsonschema.validate(json.loads(snap.to_json()), json.loads(SCHEMA_FILE.read_text()))
    finally:
        model.close()


def test_stalls_under_the_threshold_are_not_logged(
        qapp: Any, service: ResourceManagementService) -> None:
    model = MetricsModel(service, hang_threshold_ms=400)
    model.start()
    try:
        pump(lambda: model.probe.beat.base is not None, 5)

        done: list[float] = []

        def short() -> None:
            time.sleep(0.25)
            done.append(time.monotonic())

        pump(lambda: False, 0.2)
        before = model.hangs()["count"]
        QTimer.singleShot(0, short)
        # The loop turned again after the stall: the beat has reported its gap.
        pump(lambda: bool(done) and model.probe.beat.last > done[0], 5)
        assert done
        assert model.hangs()["count"] == before  # 250 ms, under 400 ms: not a hang
    finally:
        model.close()


def test_nothing_is_sampled_while_the_loop_turns(
        qapp: Any, service: ResourceManagementService) -> None:
    model = MetricsModel(service)
    model.start()
    try:
        pump(lambda: model.probe.beat.base is not None, 5)
        before = model.probe.hangs.samples_taken
        pump(lambda: False, 0.5)
        # Sampling through it would read about 40 stacks; a busy machine may stall this
        # thread past a beat now and then, which is a stall and is sampled.
        assert model.probe.hangs.samples_taken - before <= 3
    finally:
        model.close()


def hold_the_gil(seconds: float) -> None:
    # A C function called through PyDLL keeps the GIL: no Python thread runs meanwhile.
    ctypes.PyDLL(None).usleep(int(seconds * 1_000_000))


def test_after_native_code_held_the_gil_the_snapshot_blames_the_stuck_frame(
        qapp: Any, service: ResourceManagementService, tmp_path: Path) -> None:
    model = MetricsModel(service)
    model.start()
    try:
        assert model.watch_stalls(tmp_path / "1.stall")
        pump(lambda: model.probe.beat.base is not None, 5)
        pump(lambda: read_stall_file(tmp_path / "1.stall") is not None, 5)  # armed
        hold_the_gil(1.6)  # the loop does not turn: a stall, past the watchdog (0.6 s)
        # Answered before the loop turned again, as a queued request would be.
        snap = model.snapshot()
        assert snap.blocked
        assert snap.gui_stack[-1].startswith("hold_the_gil ("), snap.gui_stack
        before = model.hangs()["count"]
        pump(lambda: model.hangs()["count"] > before, 5)
        hang = model.hangs()["hangs"][-1]
        assert hang.native
        assert hang.stack[-1].startswith("hold_the_gil (")
        assert 1500 <= hang.duration_ms <= 1800
        pump(lambda: model.probe.hangs.dumps_taken > 0, 5)  # taken at the next re-arm
        assert model.probe.hangs.dumps_taken == 1  # one native stall, one dump
    finally:
        model.close()


def churn_frames(stop: threading.Event) -> None:
    """Python frames made and freed as fast as a thread can: what a dump taken while this
    runs could read half-freed."""
    def deep(n: int) -> int:
        return n if n == 0 else deep(n - 1) + 1

    while not stop.is_set():
        deep(30)
        list(x for x in range(20))  # a generator's frame too


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_a_stall_in_python_beside_busy_threads_is_never_dumped(
        qapp: Any, service: ResourceManagementService, tmp_path: Path) -> None:
    # The watchdog walks every thread's frames without the GIL: it may fire only when no
    # Python thread runs. Here the GUI thread stalls in Python past the watchdog's 0.6 s
    # while four threads churn frames: the monitor keeps re-arming it, so it never fires,
    # and the stall is sampled instead.
    model = MetricsModel(service, hang_threshold_ms=200)
    model.start()
    stop = threading.Event()
    churners = [threading.Thread(target=churn_frames, args=(stop,)) for _ in range(4)]
    try:
        path = tmp_path / "1.stall"
        assert model.watch_stalls(path)
        pump(lambda: (r := read_stall_file(path)) is not None and r.stalled_for() < 1.0, 5)
        for thread in churners:
            thread.start()
        for _ in range(2):
            before = model.hangs()["count"]
            spin(1.5)
            report = read_stall_file(path)  # read before the loop turns
            assert report is not None
            assert not report.fired
            pump(lambda n=before: model.hangs()["count"] > n, 5)
        hangs = model.hangs()["hangs"][-2:]
        assert [h.native for h in hangs] == [False, False]
        assert all(h.stack and h.stack[-1].startswith("spin (") for h in hangs)
        assert model.probe.hangs.dumps_taken == 0
    finally:
        stop.set()
        for thread in churners:
            thread.join(5)
        model.close()

