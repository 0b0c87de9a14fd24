"""Keys from a terminal for the interactive ``top``: raw bytes split into key names, and
stdin in cbreak mode (``termios`` and ``select``, nothing beyond the standard library)."""

from __future__ import annotations

import contextlib
import os
import select
import sys
from typing import Any

_ESCAPES = {
    "\x1b[A": "up", "\x1b[B": "down", "\x1b[C": "right", "\x1b[D": "left",
    "\x1bOA": "up", "\x1bOB": "down", "\x1bOC": "right", "\x1bOD": "left",
    "\x1b[5~": "pgup", "\x1b[6~": "pgdn", "\x1b[H": "home", "\x1b[F": "end",
    "\x1b[1~": "home", "\x1b[4~": "end", "\x1bOH": "home", "\x1bOF": "end",
}
_SINGLE = {"\r": "enter", "\n": "enter", "\x7f": "back", "\x08": "back", "k": "up",
           "j": "down", "g": "home", "G": "end", " ": "pgdn"}


def parse_keys(data: str) -> list[str]:
    """Split what the terminal sent into key names (``up``, ``enter``, ``b``, ``esc`` …)."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        if data[i] == "\x1b":
            for length in (4, 3):
                name = _ESCAPES.get(data[i:i + length])
                if name:
                    keys.append(name)
                    i += length
                    break
            else:
                keys.append("esc")
                i += 1
            continue
        keys.append(_SINGLE.get(data[i], data[i]))
        i += 1
    return keys


class KeyReader:
    """Stdin in cbreak mode (keys arrive one by one, unechoed; Ctrl-C still interrupts),
    restored on exit."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        import termios
        import tty

        with contextlib.suppress(termios.error):
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        import termios

        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def read(self, timeout: float) -> list[str]:
        """Keys typed within ``timeout`` seconds (none when nothing came)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.fd, 1024)
        if not data:
            raise EOFError("stdin closed")
        return parse_keys(data.decode("utf-8", "replace"))


