"""From a request line to its reply, without sockets: the dispatcher over a method table."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from inspector.server.dispatch import Deferred, Dispatcher, encode_reply, result_reply
from inspector.server.handlers import Identity, Methods, Session
from inspector.server.protocol import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    ProtocolViolation,
)
from tests.ui.fakes import FakeSource

IDENTITY = Identity(app="fake-app", pid=4242, started_at=0.0, versions={})


def _dispatcher(source: FakeSource | None = None) -> Dispatcher:
    return Dispatcher(Methods(source or FakeSource(), IDENTITY).table)


def _reply(data: bytes | Deferred) -> dict[str, Any]:
    assert isinstance(data, bytes)
    decoded: dict[str, Any] = msgspec.json.decode(data)
    return decoded


def test_a_request_is_answered_with_its_id() -> None:
    dispatcher = _dispatcher()
    reply = _reply(dispatcher.answer(Session(), b'{"id": 7, "method": "hello"}'))
    assert reply["id"] == 7
    assert reply["result"]["app"] == "fake-app"
    assert dispatcher.errors == 0


@pytest.mark.parametrize(("line", "code", "request_id"), [
    (b"{not json", PARSE_ERROR, None),
    (b'{"id": 1, "method": "nonesuch"}', METHOD_NOT_FOUND, 1),
    (b'{"id": 2, "method": "resources", "params": {"limit": -1}}', INVALID_PARAMS, 2),
    (b'{"id": "s", "method": "history", "params": {"x": 1}}', INVALID_PARAMS, "s"),
])
def test_a_bad_request_is_one_error_reply_and_counted(line: bytes, code: int,
                                                     request_id: Any) -> None:
    dispatcher = _dispatcher()
    reply = _reply(dispatcher.answer(Session(), line))
    assert reply["error"]["code"] == code
    assert reply["id"] == request_id
    assert dispatcher.errors == 1


def test_a_failing_source_is_an_internal_error_naming_the_failure(
        caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = _dispatcher(FakeSource(fail=RuntimeError("boom")))
    reply = _reply(dispatcher.answer(Session(), b'{"id": 3, "method": "snapshot"}'))
    assert reply["error"] == {"code": INTERNAL_ERROR,
                              "message": "internal error: RuntimeError: boom"}
    assert dispatcher.errors == 1
    assert "request failed" in caplog.text  # with its traceback in the application's log


def test_off_loop_methods_are_deferred_with_their_checked_params() -> None:
    dispatcher = _dispatcher()
    session = Session()
    deferred = dispatcher.answer(session, b'{"id": 4, "method": "why", '
                                          b'"params": {"resource_id": "r1"}}')
    assert isinstance(deferred, Deferred)
    assert (deferred.request_id, deferred.method, deferred.session) == (4, "why", session)
    assert deferred.params.resource_id == "r1"
    assert not deferred.handler.shared
    stacks = dispatcher.answer(session, b'{"id": 5, "method": "stacks"}')
    assert isinstance(stacks, Deferred)
    assert stacks.handler.shared
    assert isinstance(stacks.run(), dict)
    # Checked on the loop: bad params never reach the helper thread.
    bad = _reply(dispatcher.answer(session, b'{"id": 6, "method": "stacks", "params": {"a": 1}}'))
    assert bad["error"]["code"] == INVALID_PARAMS


def test_a_line_view_is_released_whatever_the_line() -> None:
    buf = bytearray(b'{"id": 1, "method": "hello"}\n{broken\n')
    dispatcher = _dispatcher()
    for start, stop in ((0, 28), (29, 36)):
        view = memoryview(buf)[start:stop]
        dispatcher.answer(Session(), view)
        with pytest.raises(ValueError, match="released"):
            view.tobytes()
    buf.clear()  # no export left: the buffer can be resized


def test_result_reply_is_the_one_error_block() -> None:
    def violation() -> Any:
        raise ProtocolViolation(INVALID_PARAMS, "no such resource", 9)

    data, failed = result_reply(1, violation)
    assert failed
    assert _reply(data) == {"id": 9, "error": {"code": INVALID_PARAMS,
                                               "message": "no such resource"}}
    data, failed = result_reply(2, lambda: {"x": 1})
    assert not failed
    assert _reply(data) == {"id": 2, "result": {"x": 1}}


def test_encode_reply_escapes_what_utf8_cannot_carry() -> None:
    decoded = _reply(encode_reply(1, {"name": "bad\udcff"}))
    assert decoded["result"]["name"].startswith("bad")
    assert decoded["result"]["name"] != "bad\udcff"
