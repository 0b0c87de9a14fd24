"""The method table, without sockets: each handler called with a session and its params."""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec
import pytest

from inspector.metrics.snapshot import WhyResult
from inspector.server.handlers import (
    MIN_INTERVAL,
    NO_HANGS,
    Handler,
    HelloParams,
    Identity,
    Methods,
    NoParams,
    ResourcesParams,
    Session,
    SnapshotCache,
    SnapshotParams,
    SubscribeParams,
    WhyParams,
)
from inspector.server.protocol import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    METHODS,
    PROTOCOL_VERSION,
    ProtocolViolation,
)
from tests.ui.fakes import FakeSource, entry, make_snapshot

IDENTITY = Identity(app="fake-app", pid=4242, started_at=1_700_000_000.0,
                    versions={"python": "3", "PySide6": "6", "resinspect": "1"})


def _methods(source: Any = None) -> Methods:
    return Methods(source if source is not None else FakeSource(), IDENTITY)


def test_the_table_answers_exactly_the_protocol_methods() -> None:
    table = _methods().table
    assert set(table) == set(METHODS)
    assert {name for name, h in table.items() if h.off_loop} == {"stacks", "why"}
    assert {name for name, h in table.items() if h.shared} == {"stacks"}


def test_params_are_checked_against_the_methods_struct() -> None:
    table = _methods().table
    with pytest.raises(ProtocolViolation) as caught:
        table["snapshot"].checked({"objects": True, "extra": 1})
    assert caught.value.code == INVALID_PARAMS
    with pytest.raises(ProtocolViolation):
        table["resources"].checked({"limit": 0})
    assert table["resources"].checked({"offset": 3}) == ResourcesParams(offset=3)
    assert table["hello"].checked({"protocol": [1], "newer": "ignored"}) == HelloParams([1])


def test_hello_says_who_serves_and_the_methods() -> None:
    hello = _methods().hello(Session(), HelloParams(protocol=[PROTOCOL_VERSION]))
    assert hello["app"] == "fake-app"
    assert hello["pid"] == 4242
    assert hello["protocol"] == PROTOCOL_VERSION
    assert hello["methods"] == list(METHODS)
    assert hello["versions"]["resinspect"] == "1"


def test_subscribe_and_unsubscribe_change_only_the_session() -> None:
    methods = _methods()
    session = Session()
    before = time.monotonic()
    reply = methods.subscribe(session, SubscribeParams(interval=0.001))
    assert reply == {"interval": MIN_INTERVAL, "seq": 0, "dropped": 0}
    assert session.interval == MIN_INTERVAL
    assert session.next_push >= before  # the first push right after the reply
    session.seq, session.dropped = 7, 2
    assert methods.unsubscribe(session, NoParams()) == {"unsubscribed": True, "seq": 7,
                                                        "dropped": 2}
    assert session.interval is None
    assert methods.unsubscribe(session, NoParams())["unsubscribed"] is False


def test_resources_and_history_come_from_the_source() -> None:
    source = FakeSource(pages={"tab": [entry("r1", "tab"), entry("r2", "tab")]})
    methods = _methods(source)
    page = methods.resources(Session(), ResourcesParams(offset=1, limit=5))
    assert [e.resource_id for e in page.items] == ["r2"]
    assert methods.history(Session(), NoParams()) is source.hist


def test_one_snapshot_per_turn_is_shared() -> None:
    source = FakeSource(snap=make_snapshot(seq=1))
    cache = SnapshotCache(source)
    first = cache.json()
    assert cache.json() is first
    assert source.calls["snapshot"] == 1
    source.snap = make_snapshot(seq=2)
    cache.new_turn()
    assert msgspec.json.decode(cache.json())["seq"] == 2
    raw = _methods(source).snapshot(Session(), SnapshotParams())
    assert msgspec.json.decode(bytes(raw))["app"] == "fake-app"


def test_an_undecodable_name_is_escaped_not_a_failure() -> None:
    source = FakeSource(snap=make_snapshot(app="bad\udcff"))
    decoded = msgspec.json.decode(SnapshotCache(source).json())
    assert decoded["app"] != "bad\udcff"
    assert decoded["app"].startswith("bad")


class _Explaining(FakeSource):
    def why(self, resource_id: str) -> WhyResult:
        if resource_id != "r1":
            raise LookupError(f"no live resource {resource_id!r}")
        return WhyResult(resource_id="r1", chain=[], complete=False)


def test_why_needs_a_source_that_can_explain() -> None:
    with pytest.raises(ProtocolViolation) as caught:
        _methods().why(Session(), WhyParams("r1"))
    assert caught.value.code == METHOD_NOT_FOUND
    methods = _methods(_Explaining())
    assert methods.why(Session(), WhyParams("r1")).resource_id == "r1"
    with pytest.raises(ProtocolViolation) as caught:
        methods.why(Session(), WhyParams("gone"))
    assert caught.value.code == INVALID_PARAMS
    assert "'gone'" in caught.value.message


class _Hanging(FakeSource):
    def hangs(self) -> dict[str, Any]:
        return {**NO_HANGS, "count": 3}


def test_hangs_come_from_a_source_with_a_hang_log_else_none() -> None:
    assert _methods().hangs(Session(), NoParams()) == dict(NO_HANGS)
    assert _methods(_Hanging()).hangs(Session(), NoParams())["count"] == 3


def test_stacks_list_this_thread_for_a_source_without_a_probe() -> None:
    stacks = _methods().stacks(Session(), NoParams())
    me = threading.get_ident()
    assert me in {t["id"] for t in stacks["threads"]}
    assert stacks["main_thread"] == threading.main_thread().ident
    assert any("test_stacks_list_this_thread" in frame
               for t in stacks["threads"] if t["id"] == me for frame in t["stack"])


def test_a_handler_is_an_immutable_value() -> None:
    handler = Handler(NoParams, lambda session, params: 1)
    with pytest.raises(AttributeError):
        handler.off_loop = True  # type: ignore[misc]
    assert handler.run(Session(), NoParams()) == 1
