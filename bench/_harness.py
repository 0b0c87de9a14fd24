"""Shared benchmark plumbing: interleaved medians, JSON results, a printed table.

Every benchmark compares against a bare baseline measured in the same run, interleaved
round by round, so machine noise hits both sides alike; ratios are what we record.

On a shared 2-core machine a sample is sometimes preempted or lands on a garbage
collection, so a ratio is the median of per-round ratios over many short rounds, after
warm-up rounds that are thrown away, with the order of the cases rotated each round (no
case always runs first, or always right after the same neighbour); work done on one thread
is timed in that thread's CPU time (:data:`clock_ns`), so time spent descheduled is not
counted. The spread of the per-round ratios is recorded next to them (:func:`spread`), and
every result file records the load average at the start and the end of its run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

RESULTS = Path(__file__).resolve().parent / "results"

#: The load average when the benchmark started (this module is imported at its start).
LOAD_AT_START = os.getloadavg()


def load_average() -> dict[str, list[float]]:
    """The 1, 5 and 15 minute load averages at the start of the run and now."""
    return {"start": [round(x, 2) for x in LOAD_AT_START],
            "end": [round(x, 2) for x in os.getloadavg()]}


def turned(items: Sequence[T], index: int) -> list[T]:
    """``items`` in the order of round ``index``: shifted by one each round, so no item
    always runs first, or always right after the same neighbour."""
    shift = index % len(items) if items else 0
    return [*items[shift:], *items[:shift]]


def sample_rounds(cases: dict[str, Callable[[], float]], count: int, *, warmup: int = 0,
                  rotate: bool = False) -> dict[str, list[float]]:
    """Every sample of each case, one per round, over ``count`` rounds.

    ``warmup`` rounds run first and are thrown away (first calls fill caches, grow dicts
    and specialise bytecode). With ``rotate`` the order of the cases shifts by one each
    round, so position effects (running first, or right after a case that left garbage
    behind) hit every case alike.
    """
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + count):
        for name in (turned(names, index) if rotate else names):
            value = cases[name]()
            if index >= warmup:
                samples[name].append(value)
    return samples


def ratios(samples: dict[str, list[float]], baseline: str) -> dict[str, list[float]]:
    """Each case's per-round ratios to ``baseline`` (samples taken in the same rounds)."""
    base = samples[baseline]
    return {name: [v / b for v, b in zip(values, base, strict=True)]
            for name, values in samples.items()}


def spread(values: list[float]) -> dict[str, float]:
    """Median, quartiles and extremes of ``values``, rounded for a result file."""
    q1, _, q3 = (statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1
                 else [values[0]] * 3)
    return {"median": round(statistics.median(values), 3), "q1": round(q1, 3),
            "q3": round(q3, 3), "min": round(min(values), 3), "max": round(max(values), 3),
            "n": len(values)}


def interleaved(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Run each case once per round, in turn; return each case's median."""
    samples = sample_rounds(cases, rounds)
    return {name: statistics.median(values) for name, values in samples.items()}


def paired(cases: dict[str, Callable[[], float]], rounds: int, baseline: str
           ) -> tuple[dict[str, float], dict[str, float]]:
    """Like :func:`interleaved`, plus each case's median of per-round ratios to ``baseline``.

    A ratio taken within one round compares runs made moments apart, so drifts in machine
    load (other processes on a 2-core machine) cancel out instead of landing on one side.
    """
    samples = sample_rounds(cases, rounds)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    per_round = ratios(samples, baseline)
    return medians, {name: statistics.median(values) for name, values in per_round.items()}


#: The clock of in-process samples of work done on the calling thread: its CPU time. Time
#: the thread spends descheduled (another process on a shared 2-core machine) is not the
#: code's cost and does not count; under load, wall-clock samples of the same loop varied
#: 5x from one round to the next.
clock_ns = time.thread_time_ns


@contextmanager
def one_cpu() -> Iterator[None]:
    """This process, and every thread and process it starts meanwhile, on one CPU (the
    highest it may use): the other is left to the machine, and work that shares a CPU is
    timed on the same one."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(allowed)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def per_op_us(fn: Callable[[], None], ops: int) -> float:
    """Microseconds of this thread's CPU time per operation of ``fn``, which performs ``ops``
    operations on this thread."""
    start = clock_ns()
    fn()
    return (clock_ns() - start) / ops / 1000.0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import PySide6

    return {"python": sys.version.split()[0], "pyside6": PySide6.__version__,
            "cpus": os.cpu_count(), "platform": platform.platform()}


def record(name: str, figures: dict[str, Any], checks: dict[str, tuple[float, str, float]]
           ) -> bool:
    """Print and save ``figures``; ``checks`` maps a label to (value, op, budget)."""
    ok = True
    rows = []
    for label, (value, op, budget) in checks.items():
        passed = value <= budget if op == "<=" else value >= budget
        ok = ok and passed
        rows.append({"check": label, "value": round(value, 3), "budget": f"{op} {budget}",
                     "pass": passed})
    load = load_average()
    out = {"benchmark": name, "machine": machine(),
           "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "load_average": load, "figures": figures, "checks": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"\n== {name} ==  (load average {load['start'][0]} at the start, "
          f"{load['end'][0]} at the end)")
    for key, value in figures.items():
        print(f"  {key:48} {value}")
    for row in rows:
        mark = "ok " if row["pass"] else "FAIL"
        print(f"  [{mark}] {row['check']:44} {row['value']:>10} (budget {row['budget']})")
    return ok


#: What Qt's offscreen platform says each time a window is shown: noise in a benchmark's
#: output, which the table of figures and verdicts should end.
OFFSCREEN_NOTES = frozenset({"This plugin does not support propagateSizeHints()"})


def quiet_offscreen() -> None:
    """Drop the offscreen platform's notes from Qt's messages; the rest still reach stderr."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    def handler(_mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
        if message not in OFFSCREEN_NOTES:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)
