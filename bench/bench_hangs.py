"""Benchmark what the hang log costs: the heartbeat idle, the sampler while the loop turns,
and the sampler during a stall.

Each figure comes from its own child process (a headless ``QCoreApplication``), so one
case's threads never run during another's measurement:

* ``idle``: an application whose event loop has nothing to do, for ``--seconds``: process CPU
  (``getrusage``) with no inspector (``bare``) and with the event-loop probe as ``attach()``
  starts it (the 50 ms heartbeat, the hang monitor thread, the stall watchdog re-armed
  every 400 ms with its file). Goal: the probe adds at most 0.5 % of one core. Rounds
  alternate bare and probe, so drifts in machine load hit both.
* ``turning``: the same probe while the loop turns (a 10 ms timer doing a little work): the
  hang monitor thread's own CPU time and how many stacks it read (none, unless the machine's
  load itself stalled the loop past a beat). Goal: a thread that sleeps through it (it wakes
  once per beat): at most 0.25 % of a core.
* ``stall``: the GUI thread busy in Python for ``--stall`` seconds, sampled at a 10 ms pace:
  the monitor thread's CPU time over the stall, the samples taken (each read waits for two
  GIL hand-offs, so the pace is 10 ms plus those waits), and the GUI thread's work done
  against the same stall with the monitor stopped. Goal: at most 5 % of one core.

Results go to ``bench/results/hangs.json``. Run: ``.venv/bin/python bench/bench_hangs.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import record


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _thread_cpu(ident: int) -> float:
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


def _app_with_probe(runtime: Path | None) -> tuple[Any, Any]:
    """An application with the event-loop probe as ``attach()`` starts it: the heartbeat,
    the hang monitor and, given a runtime directory, the stall watchdog and its file."""
    from PySide6.QtCore import QCoreApplication

    from inspector.metrics.hangs.watchdog import StallWatchdog
    from inspector.metrics.probe import LoopProbe

    app = QCoreApplication.instance() or QCoreApplication([])
    probe = LoopProbe()
    assert probe.start()
    if runtime is not None:
        path = runtime / "resinspect" / f"{os.getpid()}.stall"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        assert probe.gui_ident is not None
        probe.hangs.set_watchdog(StallWatchdog(path, probe.gui_ident, "MainThread", None))
    return app, probe


def child_idle(mode: str, seconds: float) -> dict[str, float]:
    """CPU % of one core over ``seconds`` of an idle event loop."""
    from PySide6.QtCore import QCoreApplication, QTimer

    runtime = Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp"))
    probe = None
    if mode == "probe":
        app, probe = _app_with_probe(runtime)
    else:
        app = QCoreApplication([])
    out: dict[str, float] = {}

    def begin() -> None:
        out["cpu0"], out["t0"] = _cpu(), time.monotonic()
        QTimer.singleShot(int(seconds * 1000), end)

    def end() -> None:
        out["cpu_pct"] = 100.0 * (_cpu() - out["cpu0"]) / (time.monotonic() - out["t0"])
        app.quit()

    QTimer.singleShot(500, begin)  # start-up settled
    app.exec()
    if probe is not None:
        out["samples"] = probe.hangs.samples_taken
        probe.stop()
    return {"cpu_pct": out["cpu_pct"], "samples": out.get("samples", 0.0)}


def child_turning(seconds: float) -> dict[str, float]:
    """The hang monitor's CPU while the loop turns with a 10 ms timer doing some work."""
    from PySide6.QtCore import QTimer

    app, probe = _app_with_probe(Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp")))
    monitor = probe.hangs._thread
    assert monitor is not None
    ident = monitor.ident
    assert ident is not None
    work = QTimer()
    work.timeout.connect(lambda: sum(range(2000)))
    work.start(10)
    out: dict[str, float] = {}

    def begin() -> None:
        out["cpu0"], out["t0"] = _thread_cpu(ident), time.monotonic()
        out["samples0"] = probe.hangs.samples_taken
        QTimer.singleShot(int(seconds * 1000), end)

    def end() -> None:
        elapsed = time.monotonic() - out["t0"]
        out["monitor_cpu_pct"] = 100.0 * (_thread_cpu(ident) - out["cpu0"]) / elapsed
        out["samples"] = probe.hangs.samples_taken - out["samples0"]
        app.quit()

    QTimer.singleShot(500, begin)
    app.exec()
    probe.stop()
    return {"monitor_cpu_pct": out["monitor_cpu_pct"], "samples": out["samples"]}


def child_stall(seconds: float, rounds: int) -> dict[str, float]:
    """Stalls of ``seconds`` busy in Python, sampled and not, alternated ``rounds`` times."""
    from PySide6.QtCore import QTimer

    app, probe = _app_with_probe(None)
    hangs = probe.hangs
    results: dict[str, list[float]] = {"sampled_work": [], "bare_work": [],
                                       "monitor_cpu_pct": [], "sample_hz": []}

    def busy_stall() -> int:
        end = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < end:
            n += 1
        return n

    def one_round(index: int) -> None:
        if index >= rounds:
            app.quit()
            return
        hangs.start()
        monitor = hangs._thread
        assert monitor is not None
        assert monitor.ident is not None
        samples0, cpu0 = hangs.samples_taken, _thread_cpu(monitor.ident)
        results["sampled_work"].append(busy_stall())
        results["monitor_cpu_pct"].append(
            100.0 * (_thread_cpu(monitor.ident) - cpu0) / seconds)
        results["sample_hz"].append((hangs.samples_taken - samples0) / seconds)
        hangs.stop()  # the same stall, nobody sampling
        results["bare_work"].append(busy_stall())
        QTimer.singleShot(300, lambda: one_round(index + 1))  # the loop turns between rounds

    QTimer.singleShot(500, lambda: one_round(0))
    app.exec()
    probe.stop()
    slowdown = [100.0 * (1.0 - s / b)
                for s, b in zip(results["sampled_work"], results["bare_work"], strict=True)]
    return {"monitor_cpu_pct": statistics.median(results["monitor_cpu_pct"]),
            "sample_hz": statistics.median(results["sample_hz"]),
            "gui_slowdown_pct": statistics.median(slowdown)}


def run_child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                         text=True, check=True, timeout=600)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per idle/turning run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stall", type=float, default=2.0, help="seconds per stall")
    parser.add_argument("--child", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "idle":
            result = child_idle(rest[0], args.seconds)
        elif kind == "turning":
            result = child_turning(args.seconds)
        else:
            result = child_stall(args.stall, args.rounds)
        print(json.dumps(result))
        return 0

    bare, probe = [], []
    for _ in range(args.rounds):
        bare.append(run_child("idle", "bare", "--seconds", str(args.seconds))["cpu_pct"])
        probe.append(run_child("idle", "probe", "--seconds", str(args.seconds))["cpu_pct"])
    added = statistics.median(p - b for p, b in zip(probe, bare, strict=True))
    turning = run_child("turning", "--seconds", str(args.seconds))
    stall = run_child("stall", "--stall", str(args.stall), "--rounds", str(args.rounds))
    figures = {
        "idle_bare_cpu_pct": round(statistics.median(bare), 3),
        "idle_probe_cpu_pct": round(statistics.median(probe), 3),
        "idle_added_cpu_pct": round(added, 3),
        "idle_runs": len(bare), "idle_seconds": args.seconds,
        "turning_monitor_cpu_pct": round(turning["monitor_cpu_pct"], 4),
        "turning_samples": turning["samples"],
        "stall_monitor_cpu_pct": round(stall["monitor_cpu_pct"], 3),
        "stall_sample_hz": round(stall["sample_hz"], 1),
        "stall_gui_slowdown_pct": round(stall["gui_slowdown_pct"], 2),
        "stall_seconds": args.stall, "stall_rounds": args.rounds,
        # The GUI thread's slowdown during a sampled stall depends on how fast it gets a CPU
        # back after each GIL hand-off: on a loaded 2-core machine, milliseconds.
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    ok = record("hangs", figures, {
        "heartbeat idle: added CPU % of one core": (added, "<=", 0.5),
        "loop turning: hang monitor CPU %": (turning["monitor_cpu_pct"], "<=", 0.25),
        "stall at 100 Hz: sampler CPU % of one core": (stall["monitor_cpu_pct"], "<=", 5.0),
        "stall: samples per second": (stall["sample_hz"], ">=", 50.0),
    })
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
