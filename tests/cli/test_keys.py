"""Keys from a terminal (cli/keys.py)."""

from __future__ import annotations

from cli.keys import parse_keys


def test_keys_are_parsed_from_what_a_terminal_sends() -> None:
    assert parse_keys("b\x1b[A\x1b[B\x1b[5~\x1b[6~\r\x1bq") == [
        "b", "up", "down", "pgup", "pgdn", "enter", "esc", "q"]
