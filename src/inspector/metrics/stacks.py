"""Python stacks of every thread, read without creating frame objects.

``sys._current_frames()`` materialises frame objects for other threads' live frames, and on
CPython 3.11 that has crashed processes (python/cpython#111363, #99110 follow-ups): seen here
too, twice, while threads came and went. An inspector must never crash what it inspects, so
stacks come from ``faulthandler.dump_traceback``, which walks the interpreter's frames in C
without allocating (it is written to work even inside a crash handler) and writes text to a
file descriptor, here an anonymous in-memory file.
"""

from __future__ import annotations

import faulthandler
import os
import re
import tempfile
import threading
from typing import IO

_THREAD = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-f]+)", re.IGNORECASE)
_FRAME = re.compile(r'^\s+File "(?P<file>.*)", line (?P<line>\d+|\?\?\?) in (?P<func>.*)$')


def _scratch() -> IO[bytes]:
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("resinspect-stacks"), "w+b")
    return tempfile.TemporaryFile()


def thread_stacks() -> dict[int, list[str]]:
    """Every thread's stack as ``"function (file:line)"`` frames, innermost last.

    faulthandler keeps at most 100 frames a thread, innermost ones.
    """
    with _scratch() as scratch:
        faulthandler.dump_traceback(scratch, all_threads=True)
        scratch.seek(0)
        text = scratch.read().decode("utf-8", "replace")
    return parse_dump(text)


def parse_dump(text: str) -> dict[int, list[str]]:
    """Parse faulthandler's text: threads' frames, most recent first, become innermost last."""
    stacks: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        head = _THREAD.match(line)
        if head:
            current = stacks.setdefault(int(head.group(1), 16), [])
            continue
        frame = _FRAME.match(line)
        if frame and current is not None:
            current.append(f"{frame['func']} ({frame['file']}:{frame['line']})")
    return {ident: frames[::-1] for ident, frames in stacks.items()}


def thread_names() -> dict[int, str]:
    """Python's names for the threads it knows, by ident."""
    return {t.ident: t.name for t in threading.enumerate() if t.ident is not None}
