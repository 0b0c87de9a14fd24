"""The stall file: what the watchdog wrote, read without asking the application anything.

The file (``<runtime>/resinspect/<pid>.stall``, 0600, beside the socket) starts with a JSON
header of :data:`STALL_HEADER` bytes (the GUI thread, every thread's name and native id, when
the watchdog was last re-armed); a ``faulthandler`` dump of every thread follows once the
watchdog has fired. The CLI reads it when the application does not answer, to say who holds
the GIL and where (:meth:`StallReport.verdict`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..text import safe
from .frames import parse_dump

#: Bytes at the start of the stall file that hold its JSON header; the dump follows.
STALL_HEADER = 4096
#: Largest dump read back (faulthandler caps each thread at 100 frames).
MAX_DUMP = 1 << 20


def encode_header(gui_thread: int, gui_name: str, gui_native_id: int | None,
                  armed_mono: float, timeout_s: float) -> bytes:
    """The file's header as the watchdog writes it at each arm: exactly
    :data:`STALL_HEADER` bytes, ending in a newline (the dump is written after it)."""
    threads = threading.enumerate()
    names = {str(t.ident): t.name for t in threads if t.ident is not None}
    native = {str(t.ident): t.native_id for t in threads
              if t.ident is not None and t.native_id is not None}
    names[str(gui_thread)] = gui_name
    if gui_native_id is not None:
        native[str(gui_thread)] = gui_native_id
    raw = json.dumps({
        "pid": os.getpid(), "gui_thread": gui_thread, "gui_name": gui_name,
        "armed_at": time.time() - (time.monotonic() - armed_mono), "armed_mono": armed_mono,
        "timeout_s": timeout_s, "names": names, "native_ids": native,
    }, separators=(",", ":")).encode()
    if len(raw) >= STALL_HEADER:  # very many threads: their names are what gives way
        raw = json.dumps({
            "pid": os.getpid(), "gui_thread": gui_thread, "gui_name": gui_name,
            "armed_at": time.time(), "armed_mono": armed_mono, "timeout_s": timeout_s,
        }).encode()
    return raw.ljust(STALL_HEADER - 1) + b"\n"


@dataclass(frozen=True)
class StallReport:
    """What the stall file says, read without asking the application anything."""

    pid: int
    gui_thread: int
    gui_name: str
    #: When the monitor thread last re-armed the watchdog (a Python thread last ran): wall
    #: clock, and CLOCK_MONOTONIC (the same clock in every process on Linux, so a reader can
    #: tell how long ago that was).
    armed_at: float
    armed_mono: float
    timeout_s: float
    names: dict[int, str] = field(default_factory=dict)
    native_ids: dict[int, int] = field(default_factory=dict)
    #: The watchdog's dump, by thread ident, stacks innermost last; empty if it has not fired.
    stacks: dict[int, list[str]] = field(default_factory=dict)

    @property
    def fired(self) -> bool:
        """Whether the watchdog dumped the threads (no Python thread ran for its timeout)."""
        return bool(self.stacks)

    def stalled_for(self, now_mono: float | None = None) -> float:
        """Seconds since the watchdog was last re-armed."""
        return (time.monotonic() if now_mono is None else now_mono) - self.armed_mono

    @property
    def gui_stack(self) -> list[str]:
        """The GUI thread's stack in the dump, innermost last (empty if none)."""
        return list(self.stacks.get(self.gui_thread, []))

    def holder(self) -> tuple[int, str]:
        """(ident, name) of the thread most likely holding the GIL.

        A thread that is on a CPU (state R in ``/proc``) while the GUI thread is not holds it;
        otherwise it is the GUI thread, whose stall this is.
        """
        if _thread_state(self.pid, self.native_ids.get(self.gui_thread)) not in ("S", "D"):
            return self.gui_thread, self.gui_name
        for ident, native in self.native_ids.items():
            if ident != self.gui_thread and _thread_state(self.pid, native) == "R":
                return ident, self.names.get(ident, "")
        return self.gui_thread, self.gui_name

    def verdict(self) -> str:
        """One line: who holds the GIL since when, and the last Python frame seen there
        (names from the application shown escaped, like every text output)."""
        ident, name = self.holder()
        since = time.strftime("%H:%M:%S", time.localtime(self.armed_at))
        stack = self.stacks.get(ident, [])
        last = stack[-1] if stack else "none (no Python frame on that thread)"
        who = name or f"native id {self.native_ids.get(ident, '?')}"
        return (f"not answering: the GIL is held by a native call on thread {safe(who)} since "
                f"{since}; last Python frame {safe(last)}")


def _thread_state(pid: int, native_id: int | None) -> str:
    if not native_id:
        return ""
    try:
        data = Path(f"/proc/{pid}/task/{native_id}/stat").read_bytes()
    except OSError:
        return ""
    # The command name is in parentheses and may hold spaces: the state follows the last ")".
    rest = data[data.rfind(b")") + 1:].split()
    return rest[0].decode("ascii", "replace") if rest else ""


def read_stall_file(path: Path) -> StallReport | None:
    """The report in a stall file, or None if there is none or it is not one."""
    try:
        with open(path, "rb") as f:
            data = f.read(STALL_HEADER + MAX_DUMP)
    except OSError:
        return None
    try:
        header = json.loads(data[:STALL_HEADER].rstrip(b"\0 \n") or b"null")
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    try:
        names = {int(k): str(v) for k, v in dict(header.get("names", {})).items()}
        native = {int(k): int(v) for k, v in dict(header.get("native_ids", {})).items()}
        report = StallReport(
            pid=int(header["pid"]), gui_thread=int(header["gui_thread"]),
            gui_name=str(header.get("gui_name", "")), armed_at=float(header["armed_at"]),
            armed_mono=float(header["armed_mono"]), timeout_s=float(header["timeout_s"]),
            names=names, native_ids=native,
            stacks=parse_dump(data[STALL_HEADER:].decode("utf-8", "replace")))
    except (KeyError, TypeError, ValueError):
        return None
    return report
