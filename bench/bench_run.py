"""`resinspect run` against the same program under plain python, in the same run.

* start-up: process start to the program's first event-loop turn (budget +60 ms);
* RSS 2.5 s in, the inspector attached, no panel shown (budget +12 MiB);
* the program's own work, loops of QTimer ticks and QThread starts, the median of three
  per process (budget 3 % slower), in CPU time of the whole process: every thread, the
  inspector's own included. Wall time is recorded beside it; on this 2-core machine it
  moves by 5-15 % from one loop to the next with how the QThreads are scheduled, so a run
  and a plain process differ by more than 3 % with nothing between them;
* a QObject census at 10,000 QObjects on the GUI thread (budget 5 ms), every one of them:
  the median, the slowest place in the pass the dangling-wrapper sweep is spread over, and
  the first pass, which follows every wrapper, 100 QObjects replaced between censuses.

Rounds alternate plain and run, in an order that turns each round; ratios are medians of
per-round ratios (bench/_harness.py).

    python bench/bench_run.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _harness import record

HERE = Path(__file__).resolve().parent
TARGET = str(HERE / "run_target.py")
SCRIPT = Path(sys.executable).with_name("resinspect")


def _launch(cmd: list[str], mode: str) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["BENCH_T0"] = repr(time.time())
    out = subprocess.run([*cmd, TARGET, mode], env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    found: dict[str, list[float]] = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        found.setdefault(key, []).append(float(value))
    return {key: statistics.median(values) for key, values in found.items()}


def census_ms(objects: int = 10_000, passes: int = 15, churn: int = 100) -> dict[str, float]:
    """What one census costs the GUI thread with ``objects`` live QObjects, as the tracker
    takes it (``Census()``: the dangling sweep spread over a pass of ``sweep_every``
    censuses), while ``churn`` QObjects are replaced between censuses and as many wrappers
    dangle (from the third pass on). Milliseconds: the median census; the slowest place in
    the pass (the median over passes of each place: a sweep left to every tenth census shows
    there); the first pass, which follows every wrapper; and the bare listing, the floor."""
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication
    from shiboken6 import Shiboken

    from inspector.reach.census import Census

    _app = QApplication.instance() or QApplication([])
    keep = [QObject() for _ in range(objects)]
    parents = [QObject()]
    dangling = [QObject(parents[0]) for _ in range(churn)]
    census = Census()
    k = census.sweep_every
    first: list[float] = []
    by_place: list[list[float]] = [[] for _ in range(k)]
    bare: list[float] = []
    for n in range(passes * k):
        # Followed by now (a census follows at most NEW_PER_CENSUS new wrappers, so a share
        # of the first pass may leave a few to the second: the check below then failed in
        # 2 of 6 runs): their C++ objects go, and the wrappers held here dangle.
        if n == 2 * k:
            parents.clear()
        keep[n * churn % objects:(n + 1) * churn % objects or objects] = [
            QObject() for _ in range(churn)]
        taken = census.take(time.monotonic(), 0.0)
        (first if n < k else by_place[n % k]).append(taken.duration_ms)
        started = time.perf_counter()
        Shiboken.getAllValidWrappers()  # the floor: listing the wrappers at all
        bare.append((time.perf_counter() - started) * 1000.0)
    assert census.last is not None
    assert census.last.live >= len(keep)
    assert census.last.dangling >= len(dangling)  # the sweep still finds them all
    census.clear()
    everyone = [d for place in by_place for d in place]
    return {"median": statistics.median(everyone),
            "slowest_place": max(statistics.median(place) for place in by_place),
            "first_pass_median": statistics.median(first), "first_pass_max": max(first),
            "bare": statistics.median(bare)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    plain = [sys.executable]
    run = [str(SCRIPT), "run"]
    first: dict[str, list[float]] = {"plain": [], "run": []}
    rss: dict[str, list[float]] = {"plain": [], "run": []}
    # "plain_again" is the same plain program once more: the noise of the work ratio (what
    # plain/plain reads) goes in the results beside it; the budget is checked on run/plain.
    work: dict[str, list[float]] = {"plain": [], "run": [], "plain_again": []}
    work_cpu: dict[str, list[float]] = {"plain": [], "run": [], "plain_again": []}
    pair = [("plain", plain), ("run", run)]
    triple = [("plain", plain), ("run", run), ("plain_again", plain)]
    for n in range(args.rounds):
        # The order turns from round to round: whichever process runs first or last in a
        # round (after a pause, or beside the previous one's teardown) would otherwise carry
        # that place's bias into every ratio (plain/plain read 1.033 with a fixed order).
        for name, cmd in pair[n % 2:] + pair[:n % 2]:
            got = _launch(cmd, "startup")
            first[name].append(got["FIRST_TURN"])
            rss[name].append(got["RSS"])
        for name, cmd in triple[n % 3:] + triple[:n % 3]:
            got = _launch(cmd, "work")
            work[name].append(got["WORK"])
            work_cpu[name].append(got["WORK_CPU"])
    med = {k: {n: statistics.median(v) for n, v in d.items()}
           for k, d in (("first_turn_s", first), ("rss_bytes", rss), ("work_s", work),
                        ("work_cpu_s", work_cpu))}
    startup_ms = statistics.median(r - p for r, p in zip(first["run"], first["plain"],
                                                         strict=True)) * 1000
    rss_mib = statistics.median(r - p for r, p in zip(rss["run"], rss["plain"],
                                                      strict=True)) / 2**20
    def ratio(of: dict[str, list[float]], name: str) -> float:
        return statistics.median(r / p for r, p in zip(of[name], of["plain"], strict=True))

    work_ratio, work_noise = ratio(work_cpu, "run"), ratio(work_cpu, "plain_again")
    wall_ratio, wall_noise = ratio(work, "run"), ratio(work, "plain_again")
    census = census_ms()
    figures = {"rounds": args.rounds, "medians": med,
               "startup_added_ms": round(startup_ms, 1), "rss_added_mib": round(rss_mib, 2),
               "work_cpu_ratio": round(work_ratio, 4),
               "work_cpu_ratio_plain_again_over_plain": round(work_noise, 4),
               "work_wall_ratio": round(wall_ratio, 4),
               "work_wall_ratio_plain_again_over_plain": round(wall_noise, 4),
               "census_ms_at_10k": round(census["median"], 3),
               "census_slowest_place_in_pass_ms_at_10k": round(census["slowest_place"], 3),
               "census_first_pass_ms_at_10k": round(census["first_pass_median"], 3),
               "census_first_pass_max_ms_at_10k": round(census["first_pass_max"], 3),
               "bare_getAllValidWrappers_ms_at_10k": round(census["bare"], 3),
               "census_over_bare": round(census["median"] / census["bare"], 2),
               "load_average": os.getloadavg()}
    ok = record("run", figures, {
        "start-up to first turn, added ms": (startup_ms, "<=", 60.0),
        "RSS added before the panel, MiB": (rss_mib, "<=", 12.0),
        "program's work (process CPU), run/plain": (work_ratio, "<=", 1.03),
        "census at 10,000 QObjects, ms": (census["median"], "<=", 5.0),
        "census, slowest place in the sweep's pass, ms": (census["slowest_place"], "<=", 5.0),
        "census while following 10,000 new wrappers, ms": (census["first_pass_median"], "<=",
                                                           5.0),
    })
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
