"""``resinspect top`` as a terminal program: driven through a real pseudo-terminal against a
real application with 200 components, and piped (its parts: test_keys.py, test_topstate.py,
render/test_interactive.py)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.apps.harness import RESINSPECT, App
from tests.conftest import ROOT, python_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


class Terminal:
    """A program on a 100x40 pseudo-terminal; ``screen`` is what it wrote, escapes removed."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        env = dict(env, TERM="xterm-256color", COLUMNS="100", LINES="40")
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=ROOT, start_new_session=True)
        os.close(slave)
        self.raw = ""

    def read_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.raw += chunk.decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 20.0) -> str:
        """Read until the text written since the last mark matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read_for(0.2)
            text = ANSI.sub("", self.raw[self._mark:])
            found = list(re.finditer(pattern, text))
            if found:
                # The newest frame that matches: from its match to the end.
                return text[found[-1].start():]
        raise AssertionError(f"{pattern!r} never shown; last screen:\n"
                             + ANSI.sub("", self.raw[-4000:]))

    _mark = 0

    def press(self, keys: str) -> None:
        self._mark = len(self.raw)
        os.write(self.master, keys.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        os.close(self.master)


@pytest.fixture
def terminal() -> Iterator[Callable[..., Terminal]]:
    made: list[Terminal] = []

    def start(argv: list[str], env: dict[str, str]) -> Terminal:
        t = Terminal(argv, env)
        made.append(t)
        return t

    yield start
    for t in made:
        t.close()


def test_top_in_a_terminal_sorts_by_bytes_scrolls_and_lists_resources(
        start_app: Callable[..., App], runtime_dir: Path,
        terminal: Callable[..., Terminal]) -> None:
    app = start_app("--components", "200")
    term = terminal([*RESINSPECT, "top", "--pid", str(app.pid), "--interval", "0.5"],
                    python_env(runtime_dir))
    # Sorted by bytes at first: the largest tab (200 KiB) on top.
    text = term.wait_for(r"Components by bytes ↓\s+1-\d+ of 202")
    assert re.search(r"Tab#200\s+tab\s+1\s+200\.0 KiB", text)

    term.press("n")  # by name, natural order: Tab#2 right after Tab#1, not Tab#10
    text = term.wait_for(r"Components by name ↓")
    names = re.findall(r"(Tab#\d+)\s+tab", text)
    assert names[:3] == ["Tab#1", "Tab#2", "Tab#3"]

    term.press("b")  # back to bytes, then to the end of 202 rows
    term.wait_for(r"Components by bytes ↓")
    term.press("G")
    text = term.wait_for(r"Components by bytes ↓\s+\d+-202 of 202")
    assert "WorkerOwner" in text or "Tab#1 " in text  # the smallest are at the bottom
    term.press("g")
    term.wait_for(r"Components by bytes ↓\s+1-\d+ of 202")
    term.press("\x1b[6~")  # PgDn: a page further
    text = term.wait_for(r"Components by bytes ↓\s+(\d+)-\d+ of 202")
    first = int(re.findall(r"↓\s+(\d+)-", text)[0])
    assert first > 1

    term.press("g\r")  # Enter on the largest: its resources, named, with their thread
    text = term.wait_for(r"Resources of Tab#200\s+1-1 of 1")
    assert re.search(r"cache\s+200\.0 KiB", text)
    assert "MainThread" in text
    term.press("\x1b")
    term.wait_for(r"Components by bytes")
    term.press("q")
    assert term.proc.wait(10) == 0


def test_top_in_a_terminal_says_when_the_application_exits_and_ends_cleanly(
        start_app: Callable[..., App], runtime_dir: Path,
        terminal: Callable[..., Terminal]) -> None:
    app = start_app("--components", "3")
    term = terminal([*RESINSPECT, "top", "--pid", str(app.pid), "--interval", "0.2"],
                    python_env(runtime_dir))
    term.wait_for(r"Components by bytes")
    term.press("")  # a mark: what follows is written after the exit
    app.stop()  # the application quits while top watches it (scripts/run.sh's ending)
    term.wait_for(rf"the application \(pid {app.pid}\) has exited")
    assert term.proc.wait(10) == 0
    assert "closed the connection" not in ANSI.sub("", term.raw)


def test_piped_top_is_plain_and_at_most_100_columns(start_app: Callable[..., App],
                                                    runtime_dir: Path) -> None:
    app = start_app("--components", "200")
    env = dict(python_env(runtime_dir), COLUMNS="180")  # a wide terminal around the pipe
    done = subprocess.run([*RESINSPECT, "top", "--pid", str(app.pid)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "\x1b" not in done.stdout
    # Natural order among equals, and all 202 components listed (no terminal, no paging).
    assert sum(1 for line in lines if line.lstrip().startswith("Tab#")) == 200
