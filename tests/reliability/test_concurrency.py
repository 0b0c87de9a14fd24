"""The store under threads, re-entrant callbacks and garbage collection (OpenTelemetry's
concurrency tests, CPython's switch-interval stress): counts exact, snapshots consistent,
no deadlock, every callback once."""

from __future__ import annotations

import functools
import gc
import itertools
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QObject

from inspector.metrics import MetricsModel, Snapshot
from inspector.resources import ResourceManagementService, ResourceType
from tests.conftest import PYTHON, python_env

from .conftest import thread_dump

TYPES = (ResourceType.CACHE, ResourceType.MEMORY, ResourceType.THUMBNAIL,
         ResourceType.FILE_HANDLE, ResourceType.CUSTOM)
#: The store's tables; each must come back to its size before the test.
TABLES = ("_records", "_components", "_qcomponents", "_qresources", "_qaddress", "_workers",
          "_metadata", "_pending", "_deferred")


class Owner:
    """A plain component: cleaned up when it is garbage collected."""

    loop: object = None


class Thing:
    """A resource that can be weakly referenced."""

    loop: object = None


def tables(service: ResourceManagementService) -> dict[str, int]:
    """Sizes of the store's internal tables (white-box: "the registry", exactly)."""
    store = service.store
    return {name: len(getattr(store, name)) for name in TABLES}


def warm_up_qobject_deaths(service: ResourceManagementService) -> None:
    """Let one tracked QObject die on this (the main) thread before threads do.

    PySide6 builds its classes and their enum types lazily, the first time it hands a dying
    QObject to a slot; several threads doing that first at once crash the interpreter. The
    bridge warms that up itself before its first shared-slot watch, the way every watch off
    the main thread goes (see test_first_qobject_deaths_on_many_threads_at_once_do_not_crash,
    which proves it in subprocesses); this keeps the in-process tests from being the first
    to find out if it ever stopped.
    """
    probe = QObject()
    owner = Owner()
    service.track_resource(owner, ResourceType.QOBJECT, probe)
    del probe, owner


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Make the GIL change hands every microsecond (CPython's own thread-stress setting)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_threads(target: Callable[[int], None], n: int, timeout: float) -> list[BaseException]:
    """Run ``target(i)`` on ``n`` threads; fail with every stack if any outlives ``timeout``."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - the test thread raises it
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        pytest.fail(f"threads still running after {timeout} s (deadlock?)\n{thread_dump()}")
    return errors


# -- hammer --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("fast_switching")
def test_hammer_100_threads_exact_counts_and_registry_back_to_baseline(
        service: ResourceManagementService, size: Callable[[int, int], int],
        figure: Callable[[str, object], None]) -> None:
    threads, per_thread = 100, size(1_000, 10_000)
    baseline = tables(service)
    before = service.get_statistics()
    barrier = threading.Barrier(threads)
    homes = [Owner() for _ in range(threads)]
    kept: list[list[Thing]] = [[] for _ in range(threads)]
    ids: list[list[str]] = [[] for _ in range(threads)]
    callbacks_run: list[int] = []  # list.append is atomic: the count is exact

    def work(n: int) -> None:
        home = homes[n]
        service.register_component(home, f"hammer.home-{n}", "hammer")
        mine, keep = ids[n], kept[n]
        barrier.wait()
        owner = Owner()
        for i in range(per_thread):
            if i % 4 == 0:  # a new owner; the last one is collected, so unregistered
                owner = Owner()
                service.register_component(owner, f"hammer.{n}.{i}", "hammer")
            thing = Thing()
            kind = i % 4
            rid = service.track_resource(home if kind == 3 else owner, TYPES[i % 5], thing,
                                         size_bytes=i % 7 + 1,
                                         metadata={"i": i} if kind == 2 else None)
            mine.append(rid)
            if kind == 0:  # released by hand, and a double release is only False
                assert service.release_resource(owner, rid)
                assert not service.release_resource(owner, rid)
            elif kind == 1:  # released by itself when collected
                del thing
            elif kind == 2:  # released by its owner's cleanup, whose callback runs once
                service.register_cleanup(owner, lambda: callbacks_run.append(1))
                assert service.cleanup_component(owner) == 1
            else:
                keep.append(thing)
        del owner

    started = time.perf_counter()
    errors = run_threads(work, threads, timeout=600)
    elapsed = time.perf_counter() - started
    assert errors == [], errors[:3]

    total = threads * per_thread
    kept_n = sum(len(k) for k in kept)
    kept_bytes = sum(i % 7 + 1 for i in range(per_thread) if i % 4 == 3) * threads
    stats = service.get_statistics()
    assert stats["created_total"] - before["created_total"] == total
    assert stats["live_resources"] == kept_n == total // 4
    assert stats["destroyed_total"] - before["destroyed_total"] == total - kept_n
    assert stats["tracked_bytes"] == kept_bytes
    assert sum(c["live"] for c in stats["by_component"].values()) == kept_n
    assert stats["components"] == threads  # only the homes are left
    assert len(callbacks_run) == threads * len(range(2, per_thread, 4))
    assert len({rid for mine in ids for rid in mine}) == total  # unique in the process

    kept.clear()
    homes.clear()
    gc.collect()
    stats = service.get_statistics()
    assert (stats["live_resources"], stats["tracked_bytes"], stats["components"]) == (0, 0, 0)
    assert stats["created_total"] == stats["destroyed_total"]
    assert tables(service) == baseline
    figure("threads", threads)
    figure("operations_per_thread", per_thread)
    figure("seconds", elapsed)
    figure("iterations_per_s", total / elapsed)


# -- snapshots during churn ------------------------------------------------------------------


def snapshot_problems(s: Snapshot) -> list[str]:
    """Every way a snapshot can contradict itself (an empty list when it is consistent)."""
    found = []
    live = s.live_resources
    types = s.by_type.values()
    alive = [c for c in s.components if c.alive]
    checks = {
        "created - destroyed != live": s.created_total - s.destroyed_total != live,
        "types' live != live": sum(t.live for t in types) != live,
        "types' created != created": sum(t.created for t in types) != s.created_total,
        "types' destroyed != destroyed": sum(t.destroyed for t in types) != s.destroyed_total,
        "types' bytes != tracked": sum(t.bytes for t in types) != s.tracked_bytes,
        "components' live != live": sum(c.live for c in alive) != live,
        "components' bytes != tracked": sum(c.bytes for c in alive) != s.tracked_bytes,
        "a component's created - destroyed != live": any(
            c.created - c.destroyed != c.live for c in alive),
        "a negative count": any(t.live < 0 or t.bytes < 0 for t in types)
        or any(c.live < 0 or c.bytes < 0 for c in alive),
        "tracked > peak": s.tracked_bytes > s.peak_tracked_bytes,
        "cache figures": s.cache_bytes != sum(
            s.by_type[t].bytes for t in ("cache", "thumbnail") if t in s.by_type),
    }
    for what, bad in checks.items():
        if bad:
            found.append(f"{what} (seq {s.seq})")
    return found


@pytest.mark.slow
def test_snapshots_stay_consistent_while_8_writers_churn(
        service: ResourceManagementService, model: MetricsModel,
        size: Callable[[int, int], int], figure: Callable[[str, object], None]) -> None:
    writers, readers, per_reader = 8, 4, 1000
    quota = size(50_000 // writers, 50_000)  # resources each writer churns at least
    cap = quota * 20  # bounded, even if the readers are slow
    barrier = threading.Barrier(writers + readers)
    readers_done = threading.Event()
    writers_done = threading.Event()
    tracked = [0] * writers
    problems: list[str] = []
    during = [0] * readers
    longlived: list[tuple[Owner, Thing, str]] = []
    warm_up_qobject_deaths(service)
    created_before = service.get_statistics()["created_total"]

    def writer(n: int) -> None:
        owners = [Owner() for _ in range(4)]
        for k, owner in enumerate(owners):
            service.register_component(owner, f"churn.{n}.{k}", "churn")
        cache = Thing()
        cache_rid = service.track_resource(owners[0], ResourceType.CACHE, cache, 10)
        longlived.append((owners[0], cache, cache_rid))
        count = 1
        barrier.wait()
        i = 0
        while i < cap and (i < quota or not readers_done.is_set()):
            owner = owners[i % 4]
            op = i % 8
            if op < 3:  # tracked, then released by hand
                rid = service.track_resource(owner, TYPES[i % 5], Thing(), i % 100)
                service.release_resource(owner, rid)
                count += 1
            elif op == 3:  # tracked, then collected
                service.track_resource(owner, ResourceType.THUMBNAIL, Thing(), 64)
                count += 1
            elif op == 4:  # a short-lived component, cleaned up with its resources
                temp = Owner()
                service.register_component(temp, f"churn.{n}.temp-{i}", "temp")
                things = [Thing() for _ in range(3)]
                for thing in things:
                    service.track_resource(temp, ResourceType.MEMORY, thing, 5)
                service.cleanup_component(temp)
                count += 3
                del temp, things
            elif op == 5:  # a QObject resource, released by its `destroyed`
                obj = QObject()
                service.track_resource(owner, ResourceType.QOBJECT, obj)
                del obj
                count += 1
            elif op == 6:  # a cache that grows and shrinks
                service.update_resource_size(cache_rid, 10 + i % 1000)
            else:  # a worker that is not running
                worker = threading.Thread(target=int)
                rid = service.track_resource(owner, ResourceType.WORKER, worker)
                service.release_resource(owner, rid)
                count += 1
            i += 1
        tracked[n] = count

    def reader(k: int) -> None:
        barrier.wait()
        last: Snapshot | None = None
        for j in range(per_reader):
            s = model.snapshot()
            if not writers_done.is_set():
                during[k] += 1
            found = snapshot_problems(s)
            if last is not None:
                if s.seq <= last.seq:
                    found.append("seq did not rise")
                if s.created_total < last.created_total:
                    found.append("created_total fell")
                if s.destroyed_total < last.destroyed_total:
                    found.append("destroyed_total fell")
            if j % 20 == 0:  # the O(resources) and serialising paths, under the same churn
                s.to_json()
                model.resources(limit=50)
                service.get_statistics()
            problems.extend(found)
            last = s

    errors: list[BaseException] = []
    reader_threads = [threading.Thread(target=_catching(reader, errors), args=(k,), daemon=True)
                      for k in range(readers)]
    started = time.perf_counter()
    for t in reader_threads:
        t.start()
    writer_threads = [threading.Thread(target=_catching(writer, errors), args=(n,), daemon=True)
                      for n in range(writers)]
    for t in writer_threads:
        t.start()
    deadline = time.monotonic() + 600
    for t in reader_threads:
        t.join(max(0.0, deadline - time.monotonic()))
    readers_done.set()
    for t in writer_threads:
        t.join(max(0.0, deadline - time.monotonic()))
    writers_done.set()
    elapsed = time.perf_counter() - started
    if any(t.is_alive() for t in reader_threads + writer_threads):
        pytest.fail(f"threads still running (deadlock?)\n{thread_dump()}")
    assert errors == [], errors[:3]
    assert problems == [], Counter(problems).most_common(10)
    assert min(during) > per_reader // 2, during  # the snapshots really overlapped the churn

    gc.collect()
    final = model.snapshot()
    assert snapshot_problems(final) == []
    assert final.created_total - created_before == sum(tracked)
    assert final.live_resources == writers  # the long-lived caches
    for owner, _cache, rid in longlived:
        assert service.release_resource(owner, rid)
    assert model.snapshot().live_resources == 0
    figure("writers", writers)
    figure("resources_churned", sum(tracked))
    figure("snapshots", readers * per_reader)
    figure("snapshots_during_churn", sum(during))
    figure("seconds", elapsed)


def _catching(fn: Callable[[int], None], errors: list[BaseException]) -> Callable[[int], None]:
    def run(n: int) -> None:
        try:
            fn(n)
        except BaseException as exc:  # noqa: BLE001 - the test thread raises it
            errors.append(exc)

    return run


# -- re-entrant callbacks --------------------------------------------------------------------


def test_reentrant_callbacks_run_once_in_priority_order_without_deadlock(
        service: ResourceManagementService, caplog: pytest.LogCaptureFixture,
        figure: Callable[[str, object], None]) -> None:
    calls: list[str] = []
    keep: list[object] = []
    a, b = Owner(), Owner()
    service.register_component(a, "reentrant.A")
    service.register_component(b, "reentrant.B")
    things = [Thing() for _ in range(3)]
    rids = [service.track_resource(a, ResourceType.CACHE, t, 10) for t in things]

    # A user's weak-reference callback on a tracked resource, calling back into the service
    # and collecting garbage from inside the callback.
    doomed = Thing()
    service.track_resource(b, ResourceType.CUSTOM, doomed)

    def doomed_gone(_ref: object) -> None:
        calls.append("weakref:doomed")
        extra = Thing()
        keep.append(extra)
        service.track_resource(b, ResourceType.CUSTOM, extra)
        service.get_statistics()
        gc.collect()

    doomed_ref = weakref.ref(doomed, doomed_gone)

    # Garbage only the cyclic collector can free: a registered owner with a cleanup callback,
    # and an object whose finaliser calls into the service.
    class Finalised:
        loop: object = None

        def __del__(self) -> None:
            calls.append("del:finalised")
            service.track_resource(b, ResourceType.CUSTOM, [1])  # held: released at B's end
            service.release_resource(a, rids[2])

    cyclic = Owner()
    cyclic.loop = cyclic
    service.register_component(cyclic, "reentrant.C")
    service.register_cleanup(cyclic, lambda: calls.append("C"))
    fin = Finalised()
    fin.loop = fin
    del cyclic, fin

    # A QObject owner that a callback deletes outright: its `destroyed` re-enters the store.
    q = QObject()
    service.register_component(q, "reentrant.Q")
    service.register_cleanup(q, lambda: calls.append("Q"))

    def on_a_30() -> None:
        calls.append("A:30")

    def on_a_20_first() -> None:
        calls.append("A:20a")
        raise RuntimeError("deliberate: the others must still run")

    def on_a_20_second() -> None:
        calls.append("A:20b")
        # Another thread needs the store's lock while this callback waits for it: fine only
        # if no user code runs under that lock.
        helper = threading.Thread(
            target=lambda: service.track_resource(b, ResourceType.CUSTOM, [2]), daemon=True)
        helper.start()
        helper.join(5)
        calls.append("A:20b:helper-done" if not helper.is_alive() else "A:20b:helper-STUCK")

    def on_a_10() -> None:
        nonlocal doomed
        calls.append("A:10")
        assert service.cleanup_component(a) == 0  # already being cleaned: nothing, no wait
        service.track_resource(a, ResourceType.CUSTOM, Thing())  # collected at once
        late = Thing()
        keep.append(late)
        service.track_resource(a, ResourceType.MEMORY, late, 7)  # released by this cleanup
        assert service.release_resource(a, rids[0])
        service.register_cleanup(a, lambda: calls.append("A:late"), 99)  # the next cleanup's
        service.cleanup_component(b)  # a nested cleanup of another component
        del doomed  # the user's weak-reference callback runs here
        shiboken6.delete(q)  # `destroyed` → the store cleans Q up, re-entrantly
        gc.collect()  # the cycle: C's cleanup and the finaliser run inside this callback

    def on_a_5() -> None:
        calls.append("A:5")
        service.cleanup_all()  # re-enters for every component, A included (a no-op for A)

    def on_b() -> None:
        calls.append("B")
        assert service.cleanup_component(a) == 0
        gc.collect()

    for fn, priority in ((on_a_10, 10), (on_a_5, 5), (on_a_20_first, 20), (on_a_30, 30),
                         (on_a_20_second, 20)):
        service.register_cleanup(a, fn, priority)
    service.register_cleanup(b, on_b)

    outcome: dict[str, Any] = {}

    def scenario() -> None:
        outcome["first"] = service.cleanup_component(a)
        outcome["second"] = service.cleanup_component(a)
        outcome["third"] = service.cleanup_component(a)

    started = time.perf_counter()
    with caplog.at_level("ERROR", logger="inspector.resources"):
        errors = run_threads(lambda _: scenario(), 1, timeout=10)
    elapsed = time.perf_counter() - started
    assert errors == [], errors
    a_order = [c for c in calls if c.startswith("A:") and ":helper" not in c]
    assert a_order == ["A:30", "A:20a", "A:20b", "A:10", "A:5", "A:late"], calls
    assert "A:20b:helper-done" in calls, calls
    counts = Counter(calls)
    for name in ("A:30", "A:20a", "A:20b", "A:10", "A:5", "A:late", "B", "C", "Q",
                 "weakref:doomed", "del:finalised"):
        assert counts[name] == 1, (name, calls)
    assert doomed_ref() is None
    # Released during the first cleanup: A's 3 resources (one by hand and one by the
    # finaliser, inside the callbacks) and the 2 tracked meanwhile (one collected at once).
    assert outcome == {"first": 5, "second": 0, "third": 0}, outcome
    assert "deliberate" in caplog.text  # logged, and the rest still ran
    stats = service.get_statistics()
    assert stats["created_total"] - stats["destroyed_total"] == stats["live_resources"]
    service.cleanup_all()
    assert service.get_statistics()["live_resources"] == 0
    figure("seconds", elapsed)
    figure("callbacks", len(calls))


class _Garbage:
    """One node of a cycle that calls into the service when it is finalised."""

    loop: object = None

    def __init__(self, service: ResourceManagementService, sink: Owner, ran: list[str],
                 name: str) -> None:
        self.service = service
        self.sink = sink
        self.ran = ran
        self.name = name

    def __del__(self) -> None:
        self.ran.append(self.name)
        rid = self.service.track_resource(self.sink, ResourceType.CUSTOM, Thing())
        self.service.release_resource(self.sink, rid)
        self.service.get_statistics()


@pytest.mark.slow
def test_collections_inside_the_store_never_deadlock_or_lose_a_callback(
        service: ResourceManagementService, size: Callable[[int, int], int],
        figure: Callable[[str, object], None]) -> None:
    """A garbage collection can start at any allocation, including inside the store's
    locked sections; the finalisers and weak-reference callbacks it runs then call back
    into the store from the thread that holds the lock. With the collector set to run every
    few allocations, every callback must still run once, counts stay exact, nothing waits."""
    threads, per_thread = 8, size(300, 3000)
    sink = Owner()
    service.register_component(sink, "gc.sink")
    registered: list[str] = []
    ran: list[str] = []
    finalised: list[str] = []
    ids = itertools.count()
    old_threshold = gc.get_threshold()
    warm_up_qobject_deaths(service)
    baseline = tables(service)

    def work(n: int) -> None:
        for i in range(per_thread):
            owner = Owner()
            owner.loop = owner  # only the cyclic collector frees it
            name = f"{n}.{i}.{next(ids)}"
            service.register_component(owner, f"gc.{name}")
            service.register_cleanup(owner, functools.partial(ran.append, name))
            registered.append(name)
            thing = Thing()
            thing.loop = _Garbage(service, sink, finalised, name)
            thing.loop.loop = thing  # a cycle with a finaliser, tracked as a resource
            service.track_resource(owner, ResourceType.CACHE, thing, 3)
            weakref.ref(owner, lambda _r: service.get_statistics())
            if i % 10 == 0:
                obj = QObject()  # a QObject resource: `destroyed` inside the lock, queued
                service.track_resource(sink, ResourceType.QOBJECT, obj)
                del obj
            del owner, thing

    gc.set_threshold(20, 2, 2)
    started = time.perf_counter()
    try:
        errors = run_threads(work, threads, timeout=10 * size(1, 10))
    finally:
        gc.set_threshold(*old_threshold)
    gc.collect()
    gc.collect()
    elapsed = time.perf_counter() - started
    assert errors == [], errors[:3]
    assert sorted(ran) == sorted(registered)  # every cleanup callback, exactly once
    assert sorted(finalised) == sorted(registered)
    stats = service.get_statistics()
    assert stats["live_resources"] == 0, stats
    assert stats["created_total"] == stats["destroyed_total"]
    assert tables(service) == baseline
    figure("owners_collected", len(registered))
    figure("seconds", elapsed)


def test_a_qobject_destroyed_inside_a_locked_section_releases_its_own_record(
        service: ResourceManagementService) -> None:
    """A QObject resource destroyed while this thread holds the store's lock (the garbage
    collector freed it inside a tracked call) is queued by its C++ address and applied later.
    If another QObject is tracked at the same address first (malloc hands freed memory back
    at once), the queued death must not release the newcomer's record instead.

    White-box: holding the lock stands in for "a collection inside one of the store's own
    calls", which cannot be timed from outside.
    """
    owner = Owner()
    service.register_component(owner, "addr.owner")
    store = service.store
    for _ in range(50):
        old = QObject()
        old_rid = service.track_resource(owner, ResourceType.QOBJECT, old)
        address = shiboken6.getCppPointer(old)[0]
        with store._lock:
            del old  # `destroyed` arrives while the lock is held: queued by address
        new = QObject()
        if shiboken6.getCppPointer(new)[0] != address:
            service.store.prune()  # apply the queued death; try again
            del new
            continue
        new_rid = service.track_resource(owner, ResourceType.QOBJECT, new)
        service.store.prune()
        assert not service.is_tracked(old_rid), "the dead object's record is still tracked"
        assert service.is_tracked(new_rid), "the live newcomer was released in its place"
        assert service.get_statistics()["live_resources"] == 1
        del new
        return
    pytest.skip("malloc never reused the address; the race cannot be staged here")


FIRST_DEATHS = textwrap.dedent("""
    import sys, threading
    from PySide6.QtCore import QCoreApplication, QObject
    from inspector.resources import ResourceManagementService, ResourceType

    app = QCoreApplication([])
    service = ResourceManagementService()  # nothing has died on the main thread yet

    class Owner:
        pass

    owner = Owner()
    service.register_component(owner, "first-deaths")
    barrier = threading.Barrier(8)

    def work():
        barrier.wait()
        for _ in range(50):
            obj = QObject()
            service.track_resource(owner, ResourceType.QOBJECT, obj)
            del obj  # `destroyed` reaches the store's watcher on this thread

    sys.setswitchinterval(1e-6)
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert service.get_statistics()["live_resources"] == 0
    print("OK")
""")


def test_first_qobject_deaths_on_many_threads_at_once_do_not_crash(
        figure: Callable[[str, object], None]) -> None:
    """Threads that create, track and drop QObjects from the start (a worker pool building
    timers or network managers) must not crash the application.

    The first time PySide6 converts a dying QObject for a slot it builds QtCore's Python
    enum types, lazily, on the calling thread; when 8 threads do that at once CPython
    segfaults (14 of 20 runs here). Each run is a fresh interpreter; six run at once. Objects
    watched off the main thread are heard through the bridge's shared slot, which converts
    the dying object after the bridge's one warm-up (the closures of main-thread watches
    convert nothing).
    """
    runs = 6
    procs = [subprocess.Popen([PYTHON, "-c", FIRST_DEATHS], env=python_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(runs)]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        outcomes.append((proc.returncode, out.strip(), err[-1500:]))
    crashed = [o for o in outcomes if o[0] != 0 or o[1] != "OK"]
    figure("runs", runs)
    figure("crashed", len(crashed))
    assert not crashed, f"{len(crashed)} of {runs} crashed, e.g. exit {crashed[0][0]}: " \
        f"{crashed[0][2]}"
