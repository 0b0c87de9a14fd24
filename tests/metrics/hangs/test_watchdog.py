"""The stall watchdog: faulthandler's C thread writing the stall file, re-armed by hand here
as the hang monitor's thread does."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from inspector.metrics.hangs.stallfile import STALL_HEADER, read_stall_file
from inspector.metrics.hangs.watchdog import StallWatchdog


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


#: A full collection whose finaliser runs Python for longer than the watchdog's timeout, in a
#: process of its own (a walk of frames that change under it may crash the process).
_LONG_COLLECTION = """
import gc, sys, threading, time
from pathlib import Path
from inspector.metrics.hangs.stallfile import read_stall_file
from inspector.metrics.hangs.watchdog import StallWatchdog

class Slow:
    def __del__(self):
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:  # Python code, frames pushed and freed
            sum(range(100))

path = Path(sys.argv[1])
watchdog = StallWatchdog(path, threading.get_ident(), "MainThread", None, timeout_s=0.2)
watchdog.rearm(time.monotonic())
garbage = Slow()
garbage.cycle = garbage
del garbage
gc.collect()
report = read_stall_file(path)
print("FIRED" if report is None or report.fired else "QUIET", watchdog.rearm(time.monotonic()))
watchdog.close()
"""


def test_a_full_collection_disarms_the_watchdog_until_the_next_re_arm(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _LONG_COLLECTION, str(tmp_path / "1.stall")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["QUIET", "None"]
