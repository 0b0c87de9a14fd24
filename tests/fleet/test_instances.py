"""``instances:CLASS`` on a real recording of a real tab leak, end to end.

The leak is the one a new user met: tabs closed properly (their controllers released every
resource) but still referenced by a lambda connected to a signal of the application. ``live:``
budgets pass on it; ``instances:`` fails, and a typo in a rule is a usage error, not a leak.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.fleet.conftest import (
    GROWING_APP,
    App,
    assert_one_line_error,
    resinspect,
    spawn_resinspect,
)


def frames(path: Path) -> list[dict[str, object]]:
    """The complete lines of a recording being written."""
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def held_controllers(frame: dict[str, object]) -> int:
    """Controllers alive that hold nothing: closed tabs still referenced."""
    components = frame["components"]
    assert isinstance(components, list)
    return sum(1 for c in components
               if c["id"].startswith("MediaAnalysisController#") and c["alive"]
               and c["live"] == 0)


def wait_for_frame(path: Path, predicate: Callable[[dict[str, object]], bool],
                   timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(predicate(f) for f in frames(path)):
        assert time.monotonic() < deadline, f"no frame of {path} came true within {timeout} s"
        time.sleep(0.05)


def test_diff_fails_on_a_recording_of_a_tab_leak(
        start_app: Callable[..., App], runtime_dir: Path, tmp_path: Path) -> None:
    app = start_app("--name", "tab-leak", script=GROWING_APP)
    run = tmp_path / "run.ndjson"
    recorder = spawn_resinspect(runtime_dir, "record", "--pid", str(app.pid), "-o", str(run),
                                "--interval", "0.1")
    try:
        wait_for_frame(run, lambda f: True)  # the first frame: before any tab
        app.command("open 3")
        app.command("close")  # three tabs closed properly: nothing remains
        app.command("open 3")
        app.command("hold")  # three more closed, each still held by a lambda
        wait_for_frame(run, lambda f: held_controllers(f) == 3)
    finally:
        recorder.send_signal(signal.SIGTERM)  # how a recording is ended: status 0
        recorder.communicate(timeout=20)
    assert recorder.returncode == 0
    assert held_controllers(frames(run)[0]) == 0

    # The complaint: live: sees nothing, since the controllers released everything.
    blind = resinspect(runtime_dir, "diff", str(run), "--fail-on",
                       "live:MediaAnalysisController>0", "--fail-on", "workers>0")
    assert (blind.returncode, blind.stderr) == (0, ""), blind

    caught = resinspect(runtime_dir, "diff", str(run), "--fail-on",
                        "instances:MediaAnalysisController>0", "--fail-on",
                        "live:MediaAnalysisController>0")
    line = assert_one_line_error(caught, contains="1 budget exceeded", report_on_stdout=True)
    assert "instances:MediaAnalysisController>0 (is 3)" in line
    assert "EXCEEDED" in caught.stdout

    typo = resinspect(runtime_dir, "diff", str(run), "--fail-on", "instance:Media>0")
    assert_one_line_error(typo, contains="unknown metric 'instance'", code=2)
