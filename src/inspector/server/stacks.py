"""The ``stacks`` reply: every thread's Python stack, named, with the main thread marked.

Reading is done by :mod:`inspector.metrics.stacks`, which asks the main thread for its own
stack when it can (a signal handler) and reads the others with ``sys._current_frames()``.
That is as safe as CPython allows, which is not entirely: after a QThread was
``terminate()``-d while running Python code, the interpreter's thread list keeps a dangling
thread state and anything that walks it (this, ``faulthandler``) can crash the process.
"""

from __future__ import annotations

import threading
from typing import Any

from ..metrics.stacks import MainThreadStack, thread_names
from ..metrics.stacks import thread_stacks as read_stacks


def main_stack_of(model: object) -> MainThreadStack | None:
    """The model's main-thread stack reader (``model.probe.main_stack``), if it has one."""
    reader = getattr(getattr(model, "probe", None), "main_stack", None)
    return reader if isinstance(reader, MainThreadStack) else None


def thread_stacks(main: MainThreadStack | None = None) -> dict[str, Any]:
    """``{"main_thread": ident, "threads": [{"id", "native_id", "name", "main", "daemon",
    "stack"}]}``, main thread first, each stack ``"function (file:line)"`` innermost last.

    Threads Python did not start (a QThread running Python code, say) have a stack but no
    ``threading.Thread``; they are named after their id.
    """
    stacks = read_stacks(main)
    names = thread_names()
    known = {t.ident: t for t in threading.enumerate()}
    main_id = threading.main_thread().ident
    threads = []
    for ident, stack in stacks.items():
        thread = known.get(ident)
        threads.append({
            "id": ident,
            "native_id": getattr(thread, "native_id", None),
            "name": names.get(ident, f"thread-{ident}"),
            "main": ident == main_id,
            "daemon": bool(thread.daemon) if thread is not None else True,
            "stack": stack,
        })
    threads.sort(key=lambda t: (not t["main"], str(t["name"])))
    return {"main_thread": main_id, "threads": threads}
