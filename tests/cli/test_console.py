"""The console commands print to (cli/console.py): plain and at least 80 wide in a pipe,
rich's own in a terminal."""

from __future__ import annotations

import io

import pytest

from cli.console import MIN_PLAIN_WIDTH, make_console
from cli.render.top import render_top

from .conftest import ANSI, blocked_snapshot


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_console_is_at_least_80_wide_without_ansi(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("FORCE_COLOR", "1")  # a pipe gets plain text whatever this says
    console = make_console(io.StringIO())
    assert not console.is_terminal
    assert console.width == MIN_PLAIN_WIDTH
    console.print(render_top(blocked_snapshot()))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert not ANSI.search(out)
    assert "EVENT LOOP BLOCKED" in out


def test_plain_console_keeps_a_wider_detected_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "132")
    assert make_console(io.StringIO()).width == 132


def test_terminal_console_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    console = make_console(_Tty())
    assert console.is_terminal
    console.print(render_top(blocked_snapshot()))
    assert ANSI.search(console.file.getvalue())  # type: ignore[attr-defined]
