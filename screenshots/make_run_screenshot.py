"""The README's picture of `resinspect run`: cutelog2 (from PyPI, unmodified) with the panel.

    .venv/bin/python screenshots/make_run_screenshot.py

Runs ``resinspect run --dock -m cutelog2`` in this process, offscreen, with a private HOME,
connects a logging client to it (one QThread per connection), opens a tab and closes it,
then writes ``run-cutelog2.png`` (the window with the panel docked) and ``run-top.png`` (a
``resinspect top`` frame of it) beside this script. Needs the [test] extra (cutelog2).
"""

from __future__ import annotations

import os
import pickle
import socket
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _record(name: str, message: str) -> bytes:
    data = pickle.dumps({"name": name, "levelname": "WARNING", "levelno": 30,
                         "msg": message, "created": 1.0})
    return struct.pack(">L", len(data)) + data


def main() -> int:
    """Run cutelog2 under the inspector, take the two images, quit; the exit status."""
    sys.path.insert(0, str(HERE.parent / "src"))
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    home = tempfile.mkdtemp(prefix="ri-shot-")
    os.environ.update(HOME=home, XDG_CONFIG_HOME=f"{home}/.config",
                      XDG_DATA_HOME=f"{home}/.local", XDG_RUNTIME_DIR=home)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    from inspector.reach import hooks, runner

    session = runner.Session(name="cutelog2", dock=True)
    clients: list[socket.socket] = []

    def on_app(app: Any) -> None:
        from PySide6.QtCore import QTimer

        def connect() -> None:
            for _ in range(2):
                client = socket.create_connection(("127.0.0.1", port))
                client.sendall(_record("jobs.import", "slow disk"))
                clients.append(client)

        def grab() -> None:
            from inspector.demo.screenshots import save_widget

            window = next(w for w in app.topLevelWidgets()
                          if type(w).__name__ == "MainWindow")
            window.resize(1400, 800)
            save_widget(window, HERE / "run-cutelog2.png")

        def frame() -> None:  # later: the grab above blocks the GUI thread for a while
            from inspector.demo.screenshots import save_top

            handle = session.handle
            assert handle is not None
            assert handle.model is not None
            save_top(handle.model.snapshot(), Path(home) / "top.svg", HERE / "run-top.png")
            for client in clients:
                client.close()
            app.quit()

        QTimer.singleShot(1500, connect)
        QTimer.singleShot(6000, grab)
        QTimer.singleShot(8000, frame)

    hooks.on_every_app(on_app)
    return runner.run_module("cutelog2", ["--listen_host", "127.0.0.1", "--listen_port",
                                          str(port)], session)


if __name__ == "__main__":
    raise SystemExit(main())
