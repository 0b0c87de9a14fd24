"""A real PySide6 application from PyPI, never written for resinspect, under `resinspect run`.

cutelog2 (a viewer for Python's logging) starts a QThread per client connection and one to
load a file. Unmodified and headless, it must show those threads and its window under their
owners in `resinspect top --once`, and quit cleanly on SIGINT.
"""

from __future__ import annotations

import json
import pickle
import signal
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apps.harness import resinspect
from tests.reach.helpers import RunApp

pytest.importorskip("cutelog2", reason="cutelog2 is a test dependency (pyproject [test])")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _record(message: str) -> bytes:
    data = pickle.dumps({"name": "client.job", "levelname": "INFO", "levelno": 20,
                         "msg": message, "created": 1.0})
    return struct.pack(">L", len(data)) + data


def _threads(snap: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["class_name"]: o for o in snap["qt_objects"] if o["kind"] == "thread"}


def test_cutelog2_shows_its_threads_and_window_under_owners(
        run_app: Callable[..., RunApp], runtime_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    logfile = tmp_path / "old.log"
    logfile.write_text("\n".join(json.dumps({"name": "a.b", "levelname": "INFO", "msg": f"m{i}",
                                             "created": float(i)}) for i in range(20)) + "\n")
    port = _free_port()
    app = run_app("-m", "cutelog2", "--listen_host", "127.0.0.1", "--listen_port", str(port),
                  str(logfile),
                  env={"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                       "XDG_DATA_HOME": str(home / ".local")})
    app.wait_for(lambda s: "LoadingThread" in _threads(s), timeout=60)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(_record("hello from a client"))
        snap = app.wait_for(lambda s: _threads(s).get("LogConnection", {}).get("state")
                            == "running", timeout=30)
        threads = _threads(snap)
        assert threads["LogConnection"]["component_id"] == "MainWindow#1"
        assert threads["LogConnection"]["name"] == "1"  # its objectName: the connection id
        assert threads["LogConnection"]["site"].startswith("incomingConnection (")
        assert threads["LoadingThread"]["component_id"] == "MainWindow#1"
        assert threads["LoadingThread"]["site"].startswith("load_records (")
        windows = {o["component_id"]: o for o in snap["qt_objects"] if o["kind"] == "window"}
        assert windows["MainWindow#1"]["state"] == "shown"
        assert windows["MainWindow#1"]["name"] == "cutelog2"
        assert snap["active_workers"] >= 1
        assert snap["app"] == "cutelog2"

        top = resinspect(runtime_dir, "top", "--once", "--pid", str(app.proc.pid))
        assert top.returncode == 0, top.stderr
        frame = top.stdout
        assert "Threads, timers and windows" in frame
        for text in ("MainWindow#1", "LogConnection '1'", "LoadingThread", "running",
                     "incomingConnection (listener.py:", "load_records (main_window.py:"):
            assert text in frame, frame
    assert app.quit(signal.SIGINT) == 0, app.stderr[-2000:]
