"""One background thread that runs every live service's periodic cleanup.

The cleanup (prune dead references, re-check signal receivers, sample memory) needs no GUI
thread, and a QTimer would tie each service to its thread: a service whose last reference
is dropped on another thread (a socket server's, a sampler's) would delete a running timer
from the wrong thread, and Qt crashes at the next event loop turn (seen here). The janitor
holds services weakly, so it never keeps one alive, and one thread serves them all.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Protocol

log = logging.getLogger("inspector.resources")


class _Cleanable(Protocol):
    def periodic_cleanup(self) -> None: ...


class Janitor:
    """Calls ``periodic_cleanup()`` on each registered object at its own interval."""

    def __init__(self, tick_s: float = 0.25) -> None:
        self._tick_s = tick_s
        self._lock = threading.Lock()
        self._due: dict[int, tuple[weakref.ref[_Cleanable], float, float]] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, obj: _Cleanable, interval_s: float) -> None:
        """Clean ``obj`` every ``interval_s`` seconds for as long as it lives."""
        with self._lock:
            self._due[id(obj)] = (weakref.ref(obj), interval_s, time.monotonic() + interval_s)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="resinspect-janitor",
                                                daemon=True)
                self._thread.start()
        self._wake.set()  # it may be due sooner than what the thread sleeps until

    def remove(self, obj: _Cleanable) -> None:
        """Stop cleaning ``obj``."""
        with self._lock:
            self._due.pop(id(obj), None)

    def _run(self) -> None:
        # Asleep until the next cleanup is due (``tick_s`` at the least), not woken every
        # tick: each wake-up takes the GIL from a busy GUI thread (one cleanup every 5 s by
        # default, where a 0.25 s tick woke it 4 times a second).
        wait = self._tick_s
        while True:
            self._wake.wait(wait)
            self._wake.clear()  # before reading _due: an add() from now on wakes it again
            now = time.monotonic()
            with self._lock:
                due = []
                for key, (ref, interval, at) in list(self._due.items()):
                    obj = ref()
                    if obj is None:
                        del self._due[key]
                    elif now >= at:
                        self._due[key] = (ref, interval, now + interval)
                        due.append(obj)
                    del obj
                if not self._due:
                    self._thread = None
                    return
                wait = max(self._tick_s, min(at for _, _, at in self._due.values()) - now)
            for obj in due:
                try:
                    obj.periodic_cleanup()
                except Exception:  # one service's failure must not stop the others'
                    log.exception("periodic cleanup failed")
            # Drop the strong references here, on this thread, only after the calls: the
            # objects' owners still hold them, or they would be gone already.
            del due


JANITOR = Janitor()
