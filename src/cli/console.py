"""The rich console the commands print to: a terminal as it is, anything else as plain text."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

#: Output that is not a terminal is never narrower than this (docs/architecture.md, "The command
#: line's contract").
MIN_PLAIN_WIDTH = 80


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (a closed stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def make_console(file: TextIO | None = None) -> Console:
    """A console on ``file`` (default: stdout as it is when printing).

    A terminal gets rich's own detection (colours, width, NO_COLOR). Anything else - a pipe,
    a file - gets plain text without a single escape sequence, whatever FORCE_COLOR or
    TTY_COMPATIBLE say, at least :data:`MIN_PLAIN_WIDTH` columns wide.
    """
    from rich.console import Console

    if is_terminal(file if file is not None else sys.stdout):
        return Console(file=file, highlight=False)
    # rich still finds a width when stdout is a pipe (from stdin/stderr, or COLUMNS).
    detected = Console(file=file, force_terminal=False).width
    return Console(
        file=file,
        width=max(MIN_PLAIN_WIDTH, detected),
        force_terminal=False,
        force_interactive=False,
        color_system=None,
        highlight=False,
        emoji=False,
    )
