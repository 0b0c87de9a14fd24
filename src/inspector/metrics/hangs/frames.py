"""Stack frames as text: ``"function (file:line)"``, and faulthandler's dumps read back.

Every stack resinspect shows is a list of such strings, innermost last; the hang log's
merging, the stall file and the heartbeat all read and write them through here.
"""

from __future__ import annotations

import os
import re
from types import FrameType
from typing import Any

Frame = tuple[str, str, int]  # function, file, line

#: The modules whose frames are the heartbeat's own (the probe's timer slot and the beat it
#: stamps): left out of the main thread's own stack, and of the frames under its event loop.
HEARTBEAT_FILES = frozenset({
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "beat.py"),
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "probe.py")})


def outside_heartbeat(frame: FrameType | None) -> FrameType | None:
    """The first frame, from ``frame`` outward, that is not the heartbeat's own."""
    while frame is not None and frame.f_code.co_filename in HEARTBEAT_FILES:
        frame = frame.f_back
    return frame


def format_frames(frame: FrameType | None, limit: int = 60) -> list[str]:
    """A stack as ``"function (file:line)"`` strings, innermost last."""
    if frame is None:
        return []
    # A plain walk: traceback's helpers register files with linecache (and may read them),
    # which is I/O inside a signal handler of a frozen application and memory kept for the
    # process's life. Names, files and line numbers are all a stack line shows.
    frames: list[str] = []
    current: FrameType | None = frame
    while current is not None and len(frames) < limit:
        code = current.f_code
        frames.append(f"{code.co_name} ({code.co_filename}:{current.f_lineno})")
        current = current.f_back
    frames.reverse()
    return frames


def parse_frame(text: str) -> Frame:
    """``"function (file:line)"`` as a tuple; a malformed one keeps its text as the name."""
    head, colon, tail = text.rpartition(":")
    name, paren, filename = head.partition(" (")
    if not colon or not paren or not tail.endswith(")") or not tail[:-1].isdigit():
        return (text, "", 0)
    return (name, filename, int(tail[:-1]))


def format_frame(frame: Frame) -> str:
    """A frame tuple as ``"function (file:line)"``, the form every stack in a snapshot uses."""
    name, filename, line = frame
    return f"{name} ({filename}:{line})" if filename else name


_THREAD_LINE = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-fA-F]+)")
_FILE_LINE = re.compile(r'^\s+File "(?P<file>.*)", line (?P<line>\d+|\?\?\?) in (?P<name>.*)$')


def parse_dump(text: str) -> dict[int, list[str]]:
    """A ``faulthandler`` dump as ``{thread ident: stack innermost last}``.

    faulthandler lists each thread most recent call first; stacks here are innermost last,
    like every other stack resinspect shows.
    """
    threads: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        head = _THREAD_LINE.match(line)
        if head is not None:
            current = threads.setdefault(int(head.group(1), 16), [])
            continue
        if current is None:
            continue
        found = _FILE_LINE.match(line)
        if found is not None:
            number = found.group("line")
            current.append(format_frame((found.group("name"), found.group("file"),
                                         int(number) if number.isdigit() else 0)))
    for stack in threads.values():
        stack.reverse()
    return threads

def function_key(text: str) -> tuple[str, str]:
    """A frame's function: (name, file), its line left out."""
    name, filename, _line = parse_frame(text)
    return name, filename


def common_prefix(stacks: list[list[Any]]) -> int:
    """How many leading entries every one of ``stacks`` shares."""
    if not stacks:
        return 0
    first = stacks[0]
    length = min(len(s) for s in stacks)
    for index in range(length):
        if any(s[index] != first[index] for s in stacks[1:]):
            return index
    return length
