"""What attaching costs a real application: start-up, memory and idle CPU, against itself bare.

``bench/attach_app.py`` (a small editor at 800x600, menu, status bar, signals, a timer) is
started as a fresh process per run, on an offscreen 1920x1080 screen (room for the panel to
dock), in four modes, interleaved round by round in an order that turns, so machine noise
hits all alike:

* ``bare``: no resinspect;
* ``nodock``: ``attach(dock=False)``;
* ``hidden``: ``attach(window, dock="hidden")``, the panel later shown by its toggle action;
* ``docked``: ``attach(window)``, the default.

Per run: when the first event-loop turn came (ms since the script started), the resident set
2.5 s in (after the panel, if shown, built itself), whether pyqtgraph and numpy were loaded,
the central widget's size, then the process's CPU % over the next seconds. Medians; the
checks compare each mode with ``bare``:

* docked: first turn at most 50 ms later, counted from the point where ``attach()`` is
  called (or would be) to the first turn, in wall-clock and in CPU time (which other load
  disturbs less). What comes before that point is the same in every mode: counted from the
  script's start, the interpreter's and PySide's start-up moved a round's difference by
  -50 to +90 ms (7 rounds on a clean clone, 2026-12-05), so that figure is recorded, not
  judged; the central widget keeps 800 px;
* hidden: at most 10 MiB more, no pyqtgraph or numpy until shown, no refresh while hidden;
* docked, shown: at most 1 % of a core more than the bare app at the default refresh.

Results go to ``bench/results/attach.json``. Run: ``.venv/bin/python bench/bench_attach.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import record, turned

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "bench" / "attach_app.py"
MODES = ("bare", "nodock", "hidden", "docked")
MIB = 1024 * 1024


def run_once(mode: str, seconds: float, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(APP), mode, str(seconds)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="CPU measuring window per run")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="ri-bench-attach-"))
    screens = scratch / "screens.json"
    screens.write_text(json.dumps({"screens": [
        {"name": "wide", "x": 0, "y": 0, "width": 1920, "height": 1080,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ)
    # An installed package runs from cached bytecode; with PYTHONDONTWRITEBYTECODE set (as
    # in some sandboxes) every run would compile resinspect's modules from source, a cost
    # the baseline's site-packages never pay (25-35 ms a start here). The warm-up run writes
    # the cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={screens}"
    env["XDG_CONFIG_HOME"] = str(scratch / "config")  # the panel's QSettings, not the user's
    env["XDG_RUNTIME_DIR"] = str(scratch)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])

    run_once("docked", 1.0, env)  # warm-up, thrown away: page cache and bytecode of every mode
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for n in range(args.rounds):
        for mode in turned(MODES, n):
            runs[mode].append(run_once(mode, args.seconds, env))

    def med(mode: str, key: str) -> float:
        return float(statistics.median(float(r[key]) for r in runs[mode]))

    def paired_delta(mode: str, key: str) -> float:
        # Within one round the runs are moments apart: their difference cancels drift.
        return float(statistics.median(float(a[key]) - float(b[key])
                                       for a, b in zip(runs[mode], runs["bare"], strict=True)))

    figures: dict[str, Any] = {"rounds": args.rounds, "cpu_window_s": args.seconds}
    for mode in MODES:
        figures[mode] = {
            "first_turn_ms": med(mode, "first_turn_ms"),
            "first_turn_later_ms": paired_delta(mode, "first_turn_ms"),
            "attach_to_first_turn_ms": med(mode, "attach_to_first_turn_ms"),
            "attach_to_first_turn_later_ms":
                round(paired_delta(mode, "attach_to_first_turn_ms"), 1),
            "first_turn_cpu_ms": med(mode, "first_turn_cpu_ms"),
            "first_turn_cpu_more_ms": round(paired_delta(mode, "first_turn_cpu_ms"), 1),
            "attach_to_first_turn_cpu_ms": med(mode, "attach_to_first_turn_cpu_ms"),
            "attach_to_first_turn_cpu_more_ms":
                round(paired_delta(mode, "attach_to_first_turn_cpu_ms"), 1),
            "rss_mib": round(med(mode, "rss_settled") / MIB, 2),
            "rss_more_mib": round(paired_delta(mode, "rss_settled") / MIB, 2),
            "cpu_percent": med(mode, "cpu_percent"),
            "cpu_more_percent": round(paired_delta(mode, "cpu_percent"), 3),
            "pyqtgraph_loaded": any(r["pyqtgraph"] for r in runs[mode]),
            "numpy_loaded": any(r["numpy"] for r in runs[mode]),
            "central": runs[mode][-1]["central"],
            "window": runs[mode][-1]["window"],
            "refreshes_in_window": med(mode, "refreshes"),
        }
    shown = [r["after_show"] for r in runs["hidden"]]
    figures["hidden"]["after_toggle"] = {
        "pyqtgraph_loaded": all(s["pyqtgraph"] for s in shown),
        "panel_built": all(s["panel_built"] for s in shown),
        "rss_growth_mib": round(statistics.median(s["rss_growth"] for s in shown) / MIB, 2),
        "central": shown[-1]["central"],
    }
    figures["runs"] = runs
    bare_central = figures["bare"]["central"]
    checks = {
        "docked: first turn later, from attach() on (ms)":
            (figures["docked"]["attach_to_first_turn_later_ms"], "<=", 50.0),
        "docked: CPU from attach() to the first turn (ms more)":
            (figures["docked"]["attach_to_first_turn_cpu_more_ms"], "<=", 50.0),
        "docked: central widget width kept (px lost)":
            (float(bare_central[0] - figures["docked"]["central"][0]), "<=", 0.0),
        "hidden: RSS more than bare (MiB)": (figures["hidden"]["rss_more_mib"], "<=", 10.0),
        "hidden: pyqtgraph/numpy loaded before shown":
            (float(figures["hidden"]["pyqtgraph_loaded"] or figures["hidden"]["numpy_loaded"]),
             "<=", 0.0),
        "hidden: refreshes while hidden": (figures["hidden"]["refreshes_in_window"], "<=", 0.0),
        "hidden: central width lost once shown": (
            float(bare_central[0] - figures["hidden"]["after_toggle"]["central"][0]), "<=", 0.0),
        "docked: CPU more than bare (% of a core)":
            (figures["docked"]["cpu_more_percent"], "<=", 1.0),
    }
    ok = record("attach", figures, checks)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
