"""The wire protocol: every kind of bad line gets one error and the connection keeps working."""

from __future__ import annotations

import contextlib
import math

import msgspec
import pytest

from inspector.server import protocol
from inspector.server.protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    LINE_TOO_LONG,
    MAX_LINE,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL,
    ProtocolViolation,
)

from .conftest import RawConn

# (line, expected code, expected id in the error reply)
BAD_LINES: list[tuple[bytes, int, object]] = [
    (b"", INVALID_REQUEST, None),
    (b"   ", INVALID_REQUEST, None),
    (b"{", PARSE_ERROR, None),
    (b"[]", INVALID_REQUEST, None),
    (b'[{"id": 1, "method": "hello"}]', INVALID_REQUEST, None),
    (b"null", INVALID_REQUEST, None),
    (b"42", INVALID_REQUEST, None),
    (b'"snapshot"', INVALID_REQUEST, None),
    (b'{"id": 1, "method": "snapshot"} trailing', PARSE_ERROR, None),
    (b'{"id": 1, "method": "\xff\xfe"}', PARSE_ERROR, None),
    (b'{"method": "snapshot", "params": {}}', INVALID_REQUEST, None),
    (b'{"id": null, "method": "snapshot"}', INVALID_REQUEST, None),
    (b'{"id": true, "method": "snapshot"}', INVALID_REQUEST, None),
    (b'{"id": 1.5, "method": "snapshot"}', INVALID_REQUEST, None),
    (b'{"id": {"a": 1}, "method": "snapshot"}', INVALID_REQUEST, None),
    (b'{"id": 7, "method": 5}', INVALID_REQUEST, 7),
    (b'{"id": 7}', INVALID_REQUEST, 7),
    (b'{"id": 8, "method": "frobnicate"}', METHOD_NOT_FOUND, 8),
    (b'{"id": "s", "method": "write_something", "params": {}}', METHOD_NOT_FOUND, "s"),
    (b'{"id": 9, "method": "snapshot", "params": [1, 2]}', INVALID_PARAMS, 9),
    (b'{"id": 9, "method": "snapshot", "params": "x"}', INVALID_PARAMS, 9),
    (b'{"id": 10, "method": "snapshot", "params": {"x": NaN}}', PARSE_ERROR, None),
    (b'{"id": 10, "method": "subscribe", "params": {"interval": Infinity}}', PARSE_ERROR, None),
    (b'{"id": 10, "method": "subscribe", "params": {"interval": 1e999}}', PARSE_ERROR, None),
    (b'{"id": 11, "method": "subscribe", "params": {"interval": "fast"}}', INVALID_PARAMS, 11),
    (b'{"id": 11, "method": "subscribe", "params": {"interval": -1}}', INVALID_PARAMS, 11),
    (b'{"id": 11, "method": "subscribe", "params": {"interval": true}}', INVALID_PARAMS, 11),
    (b'{"id": 12, "method": "resources", "params": {"offset": "0"}}', INVALID_PARAMS, 12),
    (b'{"id": 12, "method": "resources", "params": {"offset": -1}}', INVALID_PARAMS, 12),
    (b'{"id": 12, "method": "resources", "params": {"limit": 0}}', INVALID_PARAMS, 12),
    (b'{"id": 12, "method": "resources", "params": {"limit": 1e3}}', INVALID_PARAMS, 12),
    (b'{"id": 12, "method": "resources", "params": {"component_id": 5}}', INVALID_PARAMS, 12),
    (b'{"id": 12, "method": "resources", "params": {"offest": 1}}', INVALID_PARAMS, 12),
    (b'{"id": 13, "method": "hello", "params": {"protocol": "1"}}', INVALID_PARAMS, 13),
    (b'{"id": 13, "method": "hello", "params": {"protocol": [99]}}', UNSUPPORTED_PROTOCOL, 13),
    (b"[" * 100_000, PARSE_ERROR, None),
    (b'{"a":' * 50_000, PARSE_ERROR, None),
]


@pytest.mark.parametrize(("line", "code", "rid"), BAD_LINES,
                         ids=[repr(b[:24]) for b, _, _ in BAD_LINES])
def test_bad_line_gets_one_error_and_the_connection_keeps_working(
        raw: RawConn, line: bytes, code: int, rid: object) -> None:
    raw.send(line + b"\n")
    reply = raw.msg()
    assert set(reply) == {"id", "error"}
    assert reply["id"] == rid
    assert reply["error"]["code"] == code
    assert isinstance(reply["error"]["message"], str)
    assert reply["error"]["message"]
    raw.request(99, "hello")
    after = raw.msg()
    assert after["id"] == 99
    assert after["result"]["pid"] > 0  # the next valid request works, nothing was left over


def test_many_bad_lines_in_one_write_give_one_error_each(raw: RawConn) -> None:
    lines = [b for b, _, _ in BAD_LINES[:20]]
    raw.send(b"\n".join(lines) + b"\n" + b'{"id": "last", "method": "hello"}\n')
    codes = [raw.msg()["error"]["code"] for _ in lines]
    assert codes == [c for _, c, _ in BAD_LINES[:20]]
    assert raw.msg()["id"] == "last"


def test_crlf_line_endings_are_accepted(raw: RawConn) -> None:
    raw.send(b'{"id": 1, "method": "hello"}\r\n')
    assert raw.msg()["result"]["app"] == "test-app"


def test_oversized_line_gets_an_error_then_close(raw: RawConn) -> None:
    raw.request(1, "hello")
    assert raw.msg()["id"] == 1
    chunk = b"x" * (1 << 16)
    sent = 0
    try:
        while sent <= MAX_LINE + len(chunk):  # no newline, ever
            raw.send(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close before we finish: that is the point
    reply = raw.msg()
    assert reply["id"] is None
    assert reply["error"]["code"] == LINE_TOO_LONG
    assert raw.at_eof()


def test_oversized_line_with_newline_in_one_write(raw: RawConn) -> None:
    payload = b'{"id": 1, "method": "hello", "params": {"pad": "' + b"x" * MAX_LINE + b'"}}\n'
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        raw.send(payload)
    assert raw.msg()["error"]["code"] == LINE_TOO_LONG
    assert raw.at_eof()


def test_a_line_just_under_the_limit_is_served(raw: RawConn) -> None:
    head = b'{"id": 1, "method": "hello", "params": {"pad": "'
    tail = b'"}}'
    raw.send(head + b"x" * (MAX_LINE - len(head) - len(tail)) + tail + b"\n")
    assert raw.msg()["result"]["protocol"] == protocol.PROTOCOL_VERSION


def test_parse_request_accepts_the_documented_form() -> None:
    req = protocol.parse_request(b'{"id": 1, "method": "snapshot", "params": {}}')
    assert (req.id, req.method, req.params) == (1, "snapshot", {})
    assert protocol.parse_request(b'{"id": "a", "method": "stacks"}').params == {}


def test_deep_nesting_is_a_parse_error_not_a_recursion_error() -> None:
    with pytest.raises(ProtocolViolation) as info:
        protocol.parse_request(b"[" * 100_000)
    assert info.value.code == PARSE_ERROR
    assert "nested too deeply" in info.value.message


def test_nan_is_never_emitted() -> None:
    line = protocol.encode_result(1, {"lag": math.nan, "x": math.inf})
    assert b"NaN" not in line
    assert b"Infinity" not in line
    assert msgspec.json.decode(line) == {"id": 1, "result": {"lag": None, "x": None}}


def test_raw_results_are_embedded_verbatim() -> None:
    line = protocol.encode_result(3, msgspec.Raw(b'{"a":[1,2]}'))
    assert line == b'{"id":3,"result":{"a":[1,2]}}\n'
    push = protocol.encode_push(b'{"a":1}', seq=4, dropped=1)
    assert msgspec.json.decode(push) == {"method": "snapshot", "params": {"a": 1}, "seq": 4,
                                          "dropped": 1}


def test_negotiate_picks_the_newest_common_version() -> None:
    assert protocol.negotiate(None) == protocol.PROTOCOL_VERSION
    assert protocol.negotiate([1, 5]) == 1
    with pytest.raises(ProtocolViolation) as info:
        protocol.negotiate([2, 3])
    assert info.value.code == UNSUPPORTED_PROTOCOL
