"""The threads' frames as roots of a search, and the references they hold unseen.

Another thread's frame holding an object is a root ("thread frame"). The caller's own
thread: its frames' locals (the pytest plugin's callers hold the object in one) are counted
as holders, never as native code; those outside the ``inspector`` package are roots ("thread
frame", ranked after other threads' frames and never for the object itself), as a test still
running holds what it made.
"""

from __future__ import annotations

import os
import sys
import threading
import types

from inspector.resources.orphans import thread_was_terminated

#: The ``inspector`` package's directory: frames of its code hold what they ask about, and
#: are no answer.
PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CO_OPTIMIZED = 0x0001  # inspect.CO_OPTIMIZED: a function's frame, locals in fast slots


def thread_frames(me: int, caller: types.FrameType | None, callers: set[int]
                   ) -> tuple[dict[int, str], dict[int, int], set[int], list[object]]:
    """The threads' frames: their locals dicts (id -> "function (file:line) in thread T"),
    how many references no container shows each object has from them (fast-local slots;
    with the locals dict too for this package's own frames, whose dicts are skipped: their
    ids are the third item), and the locals dicts themselves (where the frozen heap's walk
    starts). ``callers`` gets the ids of the caller's frames' dicts outside this package."""
    names = {t.ident: t.name for t in threading.enumerate()}
    frame_dicts: dict[int, str] = {}
    fast: dict[int, int] = {}
    skipped: set[int] = set()
    dicts: list[object] = []
    if thread_was_terminated():  # walking threads could crash the process (metrics/stacks)
        return frame_dicts, fast, skipped, dicts
    stacks: dict[int, types.FrameType | None] = {**sys._current_frames()}
    stacks[me] = caller  # the caller's stack: not this function's own frames
    for ident, frame in stacks.items():
        current: types.FrameType | None = frame
        while current is not None:
            code = current.f_code
            if current.f_locals is current.f_globals:  # module level: a module global
                current = current.f_back
                continue
            local = current.f_locals  # the frame keeps this dict: a holder the scan sees
            # A class body's or exec's locals are that dict alone: no fast slots.
            cells = {*code.co_cellvars, *code.co_freevars} \
                if code.co_flags & _CO_OPTIMIZED else local.keys()
            ours = ident == me and code.co_filename.startswith(PACKAGE)
            if ours:
                skipped.add(id(local))
            else:
                frame_dicts[id(local)] = (f"{code.co_qualname} ({code.co_filename}:"
                                          f"{current.f_lineno}) in thread "
                                          f"{names.get(ident, ident)}")
                dicts.append(local)
                if ident == me:
                    callers.add(id(local))
            for key, value in local.items():
                # A cell variable's slot holds its cell, not the value; a skipped dict's own
                # reference is one no holder found accounts for.
                count = (key not in cells) + ours
                fast[id(value)] = fast.get(id(value), 0) + count
            current = current.f_back
    return frame_dicts, fast, skipped, dicts
