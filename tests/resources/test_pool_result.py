"""ResourcePool and Result."""

from __future__ import annotations

import threading

import pytest

from inspector.resources import ResourcePool, Result


def test_pool_reuses_bounds_and_disposes() -> None:
    made: list[int] = []
    disposed: list[int] = []

    def factory() -> int:
        made.append(len(made))
        return made[-1]

    pool = ResourcePool(factory, max_size=2, dispose=disposed.append)
    items = [pool.acquire() for _ in range(3)]
    assert items == [0, 1, 2]
    for item in items:
        pool.release(item)
    assert disposed == [2]  # the pool was full
    assert pool.acquire() == 1  # reused, most recent first
    stats = pool.statistics
    assert (stats.hits, stats.misses, stats.disposed, stats.idle, stats.in_use) == (1, 3, 1, 1, 1)
    assert pool.clear() == 1
    assert disposed == [2, 0]
    assert len(pool) == 0


def test_pool_lease_releases_on_error() -> None:
    pool = ResourcePool(object, max_size=1)
    with pytest.raises(KeyError), pool.lease():
        raise KeyError("x")
    assert pool.statistics.idle == 1
    assert pool.statistics.in_use == 0


def test_pool_factory_failure_does_not_count_in_use() -> None:
    def broken() -> object:
        raise OSError("no")

    pool = ResourcePool(broken)
    with pytest.raises(OSError, match="no"):
        pool.acquire()
    assert pool.statistics.in_use == 0
    with pytest.raises(ValueError, match="negative"):
        ResourcePool(object, max_size=-1)


def test_pool_is_thread_safe() -> None:
    created = []
    lock = threading.Lock()

    def factory() -> object:
        with lock:
            created.append(object())
            return created[-1]

    pool = ResourcePool(factory, max_size=4)
    barrier = threading.Barrier(8)

    def churn() -> None:
        barrier.wait()
        for _ in range(2000):
            pool.release(pool.acquire())

    threads = [threading.Thread(target=churn) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = pool.statistics
    assert stats.hits + stats.misses == 16000
    assert stats.misses == len(created)
    assert stats.in_use == 0
    assert stats.idle + stats.disposed == len(created)


def test_result() -> None:
    ok = Result.success(5)
    bad: Result[int] = Result.failure("no input")
    assert ok
    assert ok.unwrap() == 5
    assert not bad
    with pytest.raises(ValueError, match="no input"):
        bad.unwrap()
