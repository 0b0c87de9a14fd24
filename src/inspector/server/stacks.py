"""Every thread's Python stack, read from any thread (the GUI thread may be the stuck one)."""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any

#: Frames kept per thread (innermost ones); a runaway recursion must not make a huge reply.
MAX_FRAMES = 500


def format_stack(frame: FrameType | None, limit: int = MAX_FRAMES) -> list[str]:
    """``"function (file:line)"`` per frame, innermost last.

    Walks ``f_back`` by hand: ``traceback.extract_stack`` also reads source lines, which is
    slow and may touch the disk.
    """
    frames: list[str] = []
    while frame is not None and len(frames) < limit:
        code = frame.f_code
        frames.append(f"{code.co_name} ({code.co_filename}:{frame.f_lineno})")
        frame = frame.f_back
    frames.reverse()
    return frames


def thread_stacks() -> dict[str, Any]:
    """``{"main_thread": ident, "threads": [{"id", "name", "main", "daemon", "stack"}]}``.

    Threads Python did not start (a QThread running Python code, say) have frames but no
    ``threading.Thread``; they get a name from their id.
    """
    frames = sys._current_frames()
    known = {t.ident: t for t in threading.enumerate()}
    main_id = threading.main_thread().ident
    threads = []
    for ident, frame in frames.items():
        thread = known.get(ident)
        threads.append({
            "id": ident,
            "native_id": getattr(thread, "native_id", None),
            "name": thread.name if thread is not None else f"thread-{ident}",
            "main": ident == main_id,
            "daemon": bool(thread.daemon) if thread is not None else True,
            "stack": format_stack(frame),
        })
    del frames
    threads.sort(key=lambda t: (not t["main"], str(t["name"])))
    return {"main_thread": main_id, "threads": threads}
