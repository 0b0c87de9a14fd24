"""The helper thread: requests the loop must not wait for, answered off it (a real thread)."""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import pytest

from inspector.server.dispatch import Deferred
from inspector.server.handlers import Handler, NoParams, Session
from inspector.server.offloop import OffLoop
from inspector.server.protocol import INTERNAL_ERROR


class _Counting:
    """A method that counts its runs and waits until released (as ``stacks`` waits for the
    GUI thread), so that requests pile up behind it."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, session: Session, params: Any) -> dict[str, int]:
        self.runs += 1
        self.started.set()
        assert self.release.wait(10)
        return {"run": self.runs}


def _job(request_id: int, handler: Handler, method: str = "m") -> Deferred:
    return Deferred(request_id, method, handler, Session(), NoParams())


def _collect(offloop: OffLoop[str], woken: threading.Event, count: int
             ) -> dict[str, dict[str, Any]]:
    got: dict[str, dict[str, Any]] = {}
    while len(got) < count:
        assert woken.wait(10), f"only {len(got)} of {count} replies"
        woken.clear()
        for owner, reply in offloop.finished():
            got[owner] = msgspec.json.decode(reply)
    return got


def test_requests_waiting_for_a_shared_method_share_one_run() -> None:
    method = _Counting()
    shared = Handler(NoParams, method, off_loop=True, shared=True)
    woken = threading.Event()
    offloop: OffLoop[str] = OffLoop(woken.set, name="test-offloop")
    try:
        offloop.submit("first", _job(1, shared))
        assert method.started.wait(10)
        for i in range(2, 12):  # these arrive while the first run is under way
            offloop.submit(f"c{i}", _job(i, shared))
        method.release.set()
        got = _collect(offloop, woken, 11)
    finally:
        offloop.stop()
    assert got["first"] == {"id": 1, "result": {"run": 1}}
    assert {got[f"c{i}"]["id"] for i in range(2, 12)} == set(range(2, 12))
    assert {got[f"c{i}"]["result"]["run"] for i in range(2, 12)} == {2}  # one run for ten
    assert method.runs == 2


def test_an_unshared_method_runs_once_per_request_and_failures_become_replies(
        caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    def work(session: Session, params: Any) -> int:
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("heap walk failed")
        return len(runs)

    handler = Handler(NoParams, work, off_loop=True)
    woken = threading.Event()
    offloop: OffLoop[str] = OffLoop(woken.set, name="test-offloop")
    try:
        for i in range(3):
            offloop.submit(f"c{i}", _job(i, handler))
        got = _collect(offloop, woken, 3)
    finally:
        offloop.stop()
    assert len(runs) == 3
    failed = [g for g in got.values() if "error" in g]
    assert len(failed) == 1
    assert failed[0]["error"]["code"] == INTERNAL_ERROR
    assert "heap walk failed" in failed[0]["error"]["message"]
    assert "request failed" in caplog.text


def test_a_failed_shared_run_answers_every_waiting_request_with_the_error() -> None:
    def broken(session: Session, params: Any) -> Any:
        raise OSError("cannot read")

    handler = Handler(NoParams, broken, off_loop=True, shared=True)
    woken = threading.Event()
    offloop: OffLoop[str] = OffLoop(woken.set, name="test-offloop")
    try:
        offloop.submit("a", _job(1, handler))
        got = _collect(offloop, woken, 1)
    finally:
        offloop.stop()
    assert got["a"]["error"] == {"code": INTERNAL_ERROR,
                                 "message": "internal error: OSError: cannot read"}


def test_stop_ends_the_thread_and_is_idempotent() -> None:
    offloop: OffLoop[str] = OffLoop(lambda: None, name="test-offloop-stop")
    offloop.submit("a", _job(1, Handler(NoParams, lambda s, p: 1, off_loop=True)))
    offloop.stop()
    offloop.stop()
    assert "test-offloop-stop" not in {t.name for t in threading.enumerate()}
