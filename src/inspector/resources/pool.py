"""``ResourcePool``: a thread-safe, bounded pool that disposes of what it drops.

The seed's pool was not thread-safe and let dropped items leak; here every item the pool lets
go (pool full, ``clear()``) is passed to ``dispose``, outside the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PoolStatistics:
    """Counters of a pool: ``hits`` reused an idle item, ``misses`` called the factory."""

    hits: int
    misses: int
    disposed: int
    idle: int
    in_use: int
    max_size: int


class ResourcePool(Generic[T]):
    """Keeps up to ``max_size`` idle items from ``factory`` for reuse."""

    def __init__(self, factory: Callable[[], T], max_size: int = 10,
                 dispose: Callable[[T], object] | None = None) -> None:
        if max_size < 0:
            raise ValueError(f"max_size must not be negative, got {max_size}")
        self._factory = factory
        self._dispose = dispose
        self._max_size = max_size
        self._idle: list[T] = []
        self._lock = threading.Lock()
        self._hits = self._misses = self._disposed = self._in_use = 0

    def acquire(self) -> T:
        """An idle item, or a new one from the factory."""
        with self._lock:
            self._in_use += 1
            if self._idle:
                self._hits += 1
                return self._idle.pop()
            self._misses += 1
        try:
            return self._factory()
        except BaseException:
            with self._lock:
                self._in_use -= 1
            raise

    def release(self, item: T) -> None:
        """Return ``item``: kept while the pool has room, disposed otherwise."""
        with self._lock:
            self._in_use = max(0, self._in_use - 1)
            if len(self._idle) < self._max_size:
                self._idle.append(item)
                return
            self._disposed += 1
        self._drop(item)

    @contextmanager
    def lease(self) -> Iterator[T]:
        """``with pool.lease() as item:`` acquires and always releases."""
        item = self.acquire()
        try:
            yield item
        finally:
            self.release(item)

    def clear(self) -> int:
        """Dispose of every idle item; return how many."""
        with self._lock:
            items, self._idle = self._idle, []
            self._disposed += len(items)
        for item in items:
            self._drop(item)
        return len(items)

    @property
    def statistics(self) -> PoolStatistics:
        """Hits, misses, disposals and sizes, read together."""
        with self._lock:
            return PoolStatistics(self._hits, self._misses, self._disposed, len(self._idle),
                                  self._in_use, self._max_size)

    def __len__(self) -> int:
        return len(self._idle)

    def _drop(self, item: T) -> None:
        if self._dispose is not None:
            self._dispose(item)
