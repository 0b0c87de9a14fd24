"""Programs started under the real ``resinspect run``, as a user starts them."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apps.harness import RESINSPECT, resinspect
from tests.conftest import ROOT, python_env


class RunApp:
    """``resinspect run ARGS...`` in a subprocess; stdout lines collected by a thread."""

    def __init__(self, runtime: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.runtime = runtime
        full_env = python_env(runtime)
        full_env.update(env or {})
        self.proc = subprocess.Popen([*RESINSPECT, "run", *args], env=full_env, cwd=ROOT,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.stderr = ""
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.strip()))

    def expect(self, prefix: str, timeout: float) -> tuple[float, str]:
        """(when it was read, the line) of the next stdout line starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                when, line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    err = self.proc.stderr.read() if self.proc.stderr else ""
                    pytest.fail(f"the program exited {self.proc.returncode}: {err[-2000:]}")
                continue
            if line.startswith(prefix):
                return when, line
        pytest.fail(f"no {prefix!r} line within {timeout} s")

    def snapshot(self) -> dict[str, Any]:
        """One snapshot of the program, through the real CLI."""
        out = resinspect(self.runtime, "snapshot", "--pid", str(self.proc.pid))
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    def wait_for(self, check: Callable[[dict[str, Any]], bool], timeout: float
                 ) -> dict[str, Any]:
        """The first snapshot for which ``check`` holds, polled until ``timeout``."""
        deadline = time.monotonic() + timeout
        snap: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if self.socket_ready():
                snap = self.snapshot()
                if check(snap):
                    return snap
            time.sleep(0.2)
        pytest.fail(f"condition not met within {timeout} s; last snapshot: "
                    f"{json.dumps(snap)[:3000]}")

    def socket_ready(self) -> bool:
        return (self.runtime / "resinspect" / f"{self.proc.pid}.sock").exists()

    def quit(self, sig: int = signal.SIGINT, timeout: float = 20) -> int:
        """Ask the program to quit as a user would; its exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            code = self.proc.wait(timeout)
        finally:
            self.stop()
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc.stderr is not None:
            with contextlib.suppress(ValueError, OSError):
                self.stderr = self.proc.stderr.read()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
