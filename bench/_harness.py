"""Shared benchmark plumbing: interleaved medians, JSON results, a printed table.

Every benchmark compares against a bare baseline measured in the same run, interleaved
round by round, so machine noise hits both sides alike; ratios are what we record.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def interleaved(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Run each case once per round, in turn; return each case's median."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            samples[name].append(case())
    return {name: statistics.median(values) for name, values in samples.items()}


def paired(cases: dict[str, Callable[[], float]], rounds: int, baseline: str
           ) -> tuple[dict[str, float], dict[str, float]]:
    """Like :func:`interleaved`, plus each case's median of per-round ratios to ``baseline``.

    A ratio taken within one round compares runs made moments apart, so drifts in machine
    load (other processes on a 2-core machine) cancel out instead of landing on one side.
    """
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            samples[name].append(case())
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ratios = {name: statistics.median(v / b for v, b in zip(values, samples[baseline],
                                                            strict=True))
              for name, values in samples.items()}
    return medians, ratios


def per_op_us(fn: Callable[[], None], ops: int) -> float:
    """Microseconds per operation of ``fn``, which performs ``ops`` operations."""
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / ops / 1000.0


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
    out = {"benchmark": name, "machine": machine(),
           "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "figures": figures, "checks": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"\n== {name} ==")
    for key, value in figures.items():
        print(f"  {key:48} {value}")
    for row in rows:
        mark = "ok " if row["pass"] else "FAIL"
        print(f"  [{mark}] {row['check']:44} {row['value']:>10} (budget {row['budget']})")
    return ok
