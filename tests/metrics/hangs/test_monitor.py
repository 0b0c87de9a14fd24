"""The hang monitor against a real event loop stalled in named functions (through the
model, as the dock and the server read it)."""

from __future__ import annotations

import ctypes
import json
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import jsonschema
from PySide6.QtCore import QTimer

from inspector.metrics import MetricsModel
from inspector.metrics.hangs.stallfile import read_stall_file
from inspector.resources import ResourceManagementService

from ..helpers import pump, watchdog_fired_only_when_its_rearmer_could_not_run

SCHEMA_FILE = (Path(__file__).resolve().parents[3] / "src" / "inspector" / "metrics"
               / "snapshot.schema.json")


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


def logged_more_than(model: MetricsModel, count: int) -> bool:
    return int(model.hangs()["count"]) > count


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
            # Never fired while the monitor ran (an overloaded machine can starve it of a CPU
            # for 0.6 s: then it may, and its lateness says so).
            monitor = model.probe.hangs
            assert watchdog_fired_only_when_its_rearmer_could_not_run(monitor, report.fired), \
                monitor.longest_late_s
            pump(partial(logged_more_than, model, before), 5)
        hangs = model.hangs()["hangs"][-2:]
        assert all(h.stack and h.stack[-1].startswith("spin (") for h in hangs)
        if monitor.dumps_taken == 0:  # sampled, not dumped: stalls in Python
            assert [h.native for h in hangs] == [False, False]
        assert watchdog_fired_only_when_its_rearmer_could_not_run(
            monitor, monitor.dumps_taken > 0), monitor.longest_late_s
    finally:
        stop.set()
        for thread in churners:
            thread.join(5)
        model.close()
