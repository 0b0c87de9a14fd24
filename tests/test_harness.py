"""The test harness itself: an app that crashes by itself fails the test that started it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apps.harness import App


def test_an_app_that_crashed_by_itself_fails_the_test(tmp_path: Path,
                                                      runtime_dir: Path) -> None:
    script = tmp_path / "crashing_app.py"
    script.write_text("import os, sys\n"
                      "print('READY', os.getpid(), flush=True)\n"
                      "sys.stdin.readline()\n"
                      "os.abort()\n")
    app = App(runtime_dir, script=script, serves=False)
    app.proc.stdin.write("crash now\n")  # type: ignore[union-attr]
    app.proc.stdin.flush()  # type: ignore[union-attr]
    app.proc.wait(30)
    with pytest.raises(pytest.fail.Exception, match=r"crashing_app.py crashed \(SIGABRT\)"):
        app.stop()


def test_an_app_the_test_ends_stops_quietly(tmp_path: Path, runtime_dir: Path) -> None:
    script = tmp_path / "waiting_app.py"
    script.write_text("import os, sys\n"
                      "print('READY', os.getpid(), flush=True)\n"
                      "sys.stdin.readline()\n")
    app = App(runtime_dir, script=script, serves=False)
    app.stop()
    assert app.proc.returncode is not None
