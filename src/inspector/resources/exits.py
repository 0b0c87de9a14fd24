"""Cleanups that run once at interpreter exit, for the services that are still alive.

``EXIT_CLEANUPS`` is the process's default, run by ``atexit``; a service registers its exit
cleanup there unless it is given another list (prometheus_client's default registry
pattern), so a test can make services that the process's exit leaves alone.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Callable

# Imported first so that its own atexit hook (which forgets the loop-end sentinels) is
# registered before ours, and so runs after ours: atexit runs hooks last-in, first-out.
from . import shutdown as _shutdown  # noqa: F401


class ExitCleanups:
    """Bound methods to call at exit, held weakly: a registration never keeps a service."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[int, weakref.WeakMethod[Callable[[], object]]] = {}

    def add(self, cleanup: Callable[[], object]) -> None:
        """Call ``cleanup`` (a bound method) at :meth:`run`, while its object lives."""
        ref = weakref.WeakMethod(cleanup)
        with self._lock:
            self._calls[id(ref)] = ref
            for key in [k for k, r in self._calls.items() if r() is None]:
                del self._calls[key]

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for r in self._calls.values() if r() is not None)

    def run(self) -> None:
        """Call every registered cleanup whose object is still alive, in registration order."""
        with self._lock:
            calls = [fn for r in self._calls.values() if (fn := r()) is not None]
        for fn in calls:
            fn()


#: The process's default list, run at interpreter exit.
EXIT_CLEANUPS = ExitCleanups()
atexit.register(EXIT_CLEANUPS.run)
