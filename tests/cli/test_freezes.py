"""End to end: freezes of a real application, seen by the real ``resinspect`` (subprocesses).

``tests/apps/hang_app.py`` stalls its GUI thread on command: 300 ms, 1 s and 3 s in three
named functions, or about 4 s inside one regular-expression search that holds the GIL. One
application serves the whole module (its stalls are what takes time); each test finds its own
stalls by function name, so the order of the tests only saves time.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inspector.metrics.snapshot import Snapshot
from inspector.server.client import InspectorClient
from tests.apps.harness import App, resinspect
from tests.cli_helpers import assert_one_line_error
from tests.conftest import APPS

HANG_APP = APPS / "hang_app.py"
STALLS = {"stall_300ms": 0, "stall_one_second": 1, "stall_three_seconds": 2}


@pytest.fixture(scope="module")
def runtime() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ri-", dir="/tmp"))
    path.chmod(0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def hang_app(runtime: Path) -> Iterator[App]:
    app = App(runtime, script=HANG_APP)
    yield app
    app.stop()


def send(app: App, command: str) -> None:
    assert app.proc.stdin is not None
    app.proc.stdin.write(command + "\n")
    app.proc.stdin.flush()


def hangs_json(app: App, runtime: Path) -> dict[str, Any]:
    result = resinspect(runtime, "hangs", "--json", "--pid", str(app.pid))
    assert result.returncode == 0, result
    reply: dict[str, Any] = json.loads(result.stdout)
    return reply


def stall_in(reply: dict[str, Any], function: str) -> dict[str, Any]:
    """The one stall whose time went mostly to ``function``."""
    found = [h for h in reply["hangs"]
             if any(f["frame"].startswith(f"{function} (") for f in h["where"])]
    assert len(found) == 1, [h["where"][:3] for h in reply["hangs"]]
    hang: dict[str, Any] = found[0]
    return hang


def share_of(hang: dict[str, Any], function: str) -> float:
    (entry,) = [f for f in hang["where"] if f["frame"].startswith(f"{function} (")]
    return float(entry["ms"]) / float(hang["duration_ms"])


def test_dump_names_threads_gui_thread_first_and_a_qthread_by_its_object_name(
        hang_app: App, runtime: Path) -> None:
    result = resinspect(runtime, "dump", "--json", "--pid", str(hang_app.pid))
    assert result.returncode == 0, result
    threads = json.loads(result.stdout)["threads"]
    assert threads[0]["gui"]
    assert threads[0]["name"] == "MainThread"
    (indexer,) = [t for t in threads if t["name"] == "indexer-thread"]
    assert (indexer["kind"], indexer["qthread"], indexer["component"]) == (
        "qthread", "Indexer", "Indexer")
    assert indexer["stack"][-1].startswith("run (")
    assert not [t["name"] for t in threads if re.fullmatch(r"thread-\d+", t["name"])]
    assert {"resinspect-server", "stdin-reader"} <= {t["name"] for t in threads}

    text = resinspect(runtime, "dump", "--pid", str(hang_app.pid))
    assert text.returncode == 0, text
    titles = [line for line in text.stdout.splitlines() if line.startswith("Thread ")]
    assert titles[0].startswith("Thread MainThread  (GUI thread")
    assert "Thread indexer-thread  (QThread Indexer, worker of Indexer" in text.stdout


def test_hangs_lists_three_stalls_with_their_durations_and_functions(
        hang_app: App, runtime: Path) -> None:
    send(hang_app, "stalls")
    took = [float(s) for s in hang_app.expect("OK stalls", timeout=60).split()[2:]]
    reply = hangs_json(hang_app, runtime)
    for function, index in STALLS.items():
        hang = stall_in(reply, function)
        assert hang["duration_ms"] == pytest.approx(took[index] * 1000.0, rel=0.10), function
        assert share_of(hang, function) >= 0.80, hang["where"]
        assert hang["samples"] >= 5
        assert not hang["native"]
    assert reply["count"] >= 3
    assert reply["max_ms"] >= stall_in(reply, "stall_three_seconds")["duration_ms"]

    text = resinspect(runtime, "hangs", "--pid", str(hang_app.pid))
    assert text.returncode == 0, text
    for function in STALLS:
        assert f"{function} (" in text.stdout
    assert re.search(r"\d+ stalls over 200 ms since start", text.stdout)


def test_a_native_freeze_gets_a_verdict_within_2_s_and_a_hang_after(
        hang_app: App, runtime: Path) -> None:
    late: list[Snapshot] = []
    # A client that waits it out: its snapshot is answered once the GIL is back, and must
    # not blame whatever the GUI thread runs then.
    patient = InspectorClient(hang_app.socket, timeout=60, stall_check_s=None)
    send(hang_app, "native")
    stall_began = float(hang_app.expect("NATIVE_START", timeout=30).split()[1])
    waiter = threading.Thread(target=lambda: late.append(patient.snapshot()))
    waiter.start()
    started = time.monotonic()
    result = resinspect(runtime, "top", "--once", "--pid", str(hang_app.pid))
    elapsed = time.monotonic() - started
    line = assert_one_line_error(result, "resinspect: not answering: the GIL is held by a "
                                 "native call on thread MainThread since ",
                                 report_on_stdout=True)
    assert "last Python frame match_natively (" in line
    assert elapsed < 2.0, elapsed
    assert "NOT ANSWERING" in result.stdout  # and the stacks the watchdog read
    took = float(hang_app.expect("OK native", timeout=60).split()[2])
    assert started + elapsed < stall_began + took  # the verdict came during the stall

    waiter.join(30)
    patient.close()
    (snap,) = late
    if snap.gui_stack:  # answered while the loop had not turned yet: the stuck frame
        assert snap.gui_stack[-1].startswith("match_natively ("), snap.gui_stack

    hang = stall_in(hangs_json(hang_app, runtime), "match_natively")
    assert hang["native"]
    assert hang["duration_ms"] == pytest.approx(took * 1000.0, rel=0.10)
    assert hang["stack"][-1].startswith("match_natively (")  # not whatever ran next
    assert share_of(hang, "match_natively") >= 0.80
