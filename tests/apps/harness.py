"""Start real applications and the real ``resinspect`` as subprocesses, for any test folder.

``App`` runs ``tests/apps/tracked_app.py`` (or another script) with a private runtime
directory and waits for its ``READY <pid>`` line; ``resinspect()`` runs the installed command.
Fixtures built on these live in ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from inspector.server.processes import socket_accepts
from tests.conftest import APPS, PYTHON, ROOT, python_env

TRACKED_APP = APPS / "tracked_app.py"
#: Signals an app dies of only by crashing.
_CRASHES = frozenset({signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE,
                      signal.SIGILL})
_SCRIPT = Path(sys.executable).with_name("resinspect")
#: The console script as installed; ``python -m cli`` where it is not.
RESINSPECT = [str(_SCRIPT)] if _SCRIPT.exists() else [PYTHON, "-m", "cli"]


class App:
    """A running tracked_app.py (or ``script``); its stdout lines are collected by a thread,
    and its stdin is a pipe (growing_app.py reads commands there and ends when it closes)."""

    def __init__(self, runtime: Path, *args: str, script: Path = TRACKED_APP,
                 serves: bool = True) -> None:
        if script == TRACKED_APP and "--seconds" not in args:
            # It runs until killed: should the test process die first (a crash), it must
            # still end by itself.
            args = ("--seconds", "120", *args)
        self.name = script.name
        self.proc = subprocess.Popen(
            [PYTHON, str(script), *args], env=python_env(runtime), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        ready = self.expect("READY", timeout=30)
        self.pid = int(ready.split()[1])
        assert self.pid == self.proc.pid
        #: Where its inspector socket is.
        self.socket = runtime / "resinspect" / f"{self.pid}.sock"
        if serves:
            self._await_served(10.0)

    def _await_served(self, timeout: float) -> None:
        """Return once the app's socket accepts: attach() starts its server a couple of
        event-loop turns after the app printed READY, and a test that asks at once would
        race it. An app that never serves is the test's own finding, not this one's."""
        deadline = time.monotonic() + timeout
        while not socket_accepts(self.socket) and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return
            time.sleep(0.01)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout: float) -> str:
        """The next stdout line starting with ``prefix``; fails if the app dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    stderr = self.proc.stderr.read() if self.proc.stderr else ""
                    pytest.fail(f"{self.name} exited {self.proc.returncode}: {stderr[-2000:]}")
                continue
            if line.startswith(prefix):
                return line
        pytest.fail(f"{self.name} printed no {prefix!r} within {timeout} s")

    def command(self, command: str) -> str:
        """Send a growing_app command and wait for its ``OK`` line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.expect(f"OK {command}", timeout=15)

    def stop(self) -> None:
        """End the app; fail if it had crashed by itself (no test sends these signals: a
        crash the test did not look for must still fail it)."""
        crashed = self.proc.poll() is not None and -self.proc.returncode in _CRASHES
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        stderr = ""
        if crashed and self.proc.stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                stderr = self.proc.stderr.read()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):  # stdin of a dead app
                    stream.close()
        if crashed:
            name = signal.Signals(-self.proc.returncode).name
            pytest.fail(f"{self.name} crashed ({name}) during the test: {stderr[-2000:]}")


def resinspect(runtime: Path, *args: str, timeout: float = 30
               ) -> subprocess.CompletedProcess[str]:
    """Run the real ``resinspect`` with ``args`` against ``runtime``."""
    return subprocess.run([*RESINSPECT, *args], env=python_env(runtime), capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, check=False)
