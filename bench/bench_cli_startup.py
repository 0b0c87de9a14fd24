"""Benchmark how fast ``resinspect snapshot`` answers, against the bare cost of its libraries.

Measured as wall time of whole processes, as a user sees it, over interleaved rounds whose
order rotates; the ratio is the median of per-round ratios (so drift in machine load hits
both alike, and a round that another process disturbed is one of many):

* ``baseline``: ``python -c "import click, rich.live"`` - the interpreter plus the two
  libraries a rich click tool cannot do without (0.10 s; docs/architecture.md, "Measured facts").
* ``snapshot``: the installed ``resinspect snapshot --socket <socket>`` against a real
  application (``tests/apps/tracked_app.py``): start-up, discovery, connect, hello, one
  snapshot, JSON to stdout. Goal: at most 1.5x ``baseline``.
* ``version``: ``resinspect --version``, the floor of the command itself.

When the application cannot be started (no server yet), only ``version`` is compared.
Results go to ``bench/results/cli_startup.json``.
Run: ``.venv/bin/python bench/bench_cli_startup.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ratios, record, sample_rounds, spread

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "tests" / "apps" / "tracked_app.py"
TARGET_RATIO = 1.5

_SCRIPT = Path(sys.executable).with_name("resinspect")
RESINSPECT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli"]


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds for ``cmd`` to run to completion; it must succeed."""
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{cmd} failed ({result.returncode}): {result.stderr.decode()[-500:]}")
    return elapsed


def start_app(env: dict[str, str]) -> tuple[subprocess.Popen[str], Path] | None:
    """tracked_app.py and its socket, or None if it cannot serve (yet)."""
    proc = subprocess.Popen([sys.executable, str(APP)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        proc.wait()
        return None
    sock = Path(env["XDG_RUNTIME_DIR"]) / "resinspect" / f"{proc.pid}.sock"
    return (proc, sock) if sock.exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()

    runtime = Path(tempfile.mkdtemp(prefix="ri-bench-", dir="/tmp"))
    runtime.chmod(0o700)
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime))
    # An installed package runs from cached bytecode; with PYTHONDONTWRITEBYTECODE set (as
    # in some sandboxes) every run would compile resinspect's modules from source, a cost
    # the baseline's site-packages never pay (25-35 ms a start here). The warm-up run writes
    # the cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])

    cases: dict[str, list[str]] = {
        "baseline": [sys.executable, "-c", "import click, rich.live"],
        "version": [*RESINSPECT, "--version"],
    }
    started = start_app(env)
    if started is not None:
        cases["snapshot"] = [*RESINSPECT, "snapshot", "--socket", str(started[1])]
    try:
        # The first round warms the page cache and .pyc files and is thrown away.
        times = sample_rounds({name: functools.partial(wall, cmd, env)
                               for name, cmd in cases.items()},
                              args.rounds, warmup=1, rotate=True)
    finally:
        if started is not None:
            started[0].terminate()
            started[0].wait(10)
        shutil.rmtree(runtime, ignore_errors=True)

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    measured = "snapshot" if "snapshot" in medians else "version"
    per_round = ratios(times, "baseline")[measured]
    ratio = statistics.median(per_round)
    figures: dict[str, Any] = {
        "rounds": args.rounds,
        "median_s": {name: round(m, 4) for name, m in medians.items()},
        "min_s": {name: round(min(ts), 4) for name, ts in times.items()},
        "measured": measured,
        "per_round_ratios": spread(per_round),
        "commands": {name: " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))
                     for name, cmd in cases.items()},
    }
    ok = record("cli_startup", figures,
                {f"`resinspect {measured}` / `import click, rich.live`, wall":
                 (ratio, "<=", TARGET_RATIO)})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
