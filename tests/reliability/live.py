"""Real application processes for the reliability suite, with both output streams drained.

``tests.apps.harness.App`` reads only stdout while the app runs; an app whose server logs a
warning per refused or dropped client (hundreds, in these tests) would fill its stderr pipe
and block in a write, stalling the very server thread under test. ``LiveApp`` pumps both
streams into memory and keeps them for the assertions.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import APPS, PYTHON, python_env

SERVED_APP = APPS / "served_app.py"
LIFECYCLE_APP = APPS / "lifecycle_app.py"

#: Lines an offscreen Qt prints on stderr that say nothing about the app's health.
QT_NOISE = ("This plugin does not support propagateSizeHints()",)


class LiveApp:
    """A running app script whose stdout and stderr lines are collected by two threads."""

    def __init__(self, runtime: Path, script: Path, *args: str, ready: bool = True,
                 ready_timeout: float = 30.0, env: dict[str, str] | None = None) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [PYTHON, str(script), *args], env=env or python_env(runtime),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, True),
                                        daemon=True),
                       threading.Thread(target=self._pump, args=(self.proc.stderr, False),
                                        daemon=True)]
        for pump in self._pumps:
            pump.start()
        self.pid = self.proc.pid
        self.socket: Path | None = None
        if ready:
            line = self.expect("READY", ready_timeout)
            _, pid, path = line.split(maxsplit=2)
            assert int(pid) == self.pid
            self.socket = None if path == "-" else Path(path)
            if self.socket is not None:
                self._await_stall_watchdog(self.socket, ready_timeout)

    def _await_stall_watchdog(self, sock: Path, timeout: float) -> None:
        """Return once the app's hang monitor has armed its stall watchdog, whose C thread then
        lives on: counts of the app's threads taken from here on are steady."""
        from inspector.metrics.hangs import read_stall_file
        from inspector.server.discovery import stall_for

        deadline = time.monotonic() + min(timeout, 5.0)
        while read_stall_file(stall_for(sock)) is None and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return  # the tests that expect an early exit say so themselves
            time.sleep(0.01)

    def _pump(self, stream: object, is_stdout: bool) -> None:
        assert stream is not None
        for raw in stream:  # type: ignore[attr-defined]
            line = raw.rstrip("\n")
            if is_stdout:
                self.stdout.append(line)
                self._lines.put(line)
            else:
                self.stderr.append(line)

    def expect(self, prefix: str, timeout: float) -> str:
        """The next stdout line that starts with ``prefix``; fails if the app exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.05)
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    self.join_pumps()
                    pytest.fail(f"{self.describe()} exited {self.proc.returncode} before "
                                f"{prefix!r}: {self.errors()[-3000:]}")
                continue
            if line.startswith(prefix):
                return line
        pytest.fail(f"{self.describe()} printed no {prefix!r} within {timeout} s")

    def describe(self) -> str:
        args = self.proc.args
        return " ".join(str(a) for a in args[1:]) if isinstance(args, list) else str(args)

    def wait(self, timeout: float) -> int:
        """Wait for the exit; returns the exit status (a negative signal number if killed)."""
        code = self.proc.wait(timeout)
        self.join_pumps()
        return code

    def join_pumps(self) -> None:
        for pump in self._pumps:
            pump.join(5)

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def stop(self) -> int:
        """SIGTERM (the apps quit cleanly on it), then SIGKILL; returns the exit status."""
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.join_pumps()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode

    def errors(self) -> str:
        """stderr without Qt's offscreen noise."""
        return "\n".join(line for line in self.stderr if line not in QT_NOISE)

    def value(self, prefix: str) -> str:
        """The rest of the last stdout line starting with ``prefix`` ("" if none)."""
        for line in reversed(self.stdout):
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        return ""


@contextlib.contextmanager
def live_app(runtime: Path, script: Path, *args: str, **kwargs: object) -> Iterator[LiveApp]:
    """A ``LiveApp`` stopped (and its pipes closed) when the block ends."""
    app = LiveApp(runtime, script, *args, **kwargs)  # type: ignore[arg-type]
    try:
        yield app
    finally:
        app.stop()


def heartbeat_gap_ms(app: LiveApp) -> float:
    """The served app's longest GUI-thread timer gap, from its exit line."""
    text = app.value("HEARTBEAT")
    fields = dict(part.split("=", 1) for part in text.split())
    return float(fields["max_gap_ms"])
