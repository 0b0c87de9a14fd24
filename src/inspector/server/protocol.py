"""The wire protocol: newline-delimited JSON, JSON-RPC 2.0 style (docs/architecture.md, "The wire
protocol").

A request is one line ``{"id": 1, "method": "snapshot", "params": {}}``; its reply one line
``{"id": 1, "result": ...}`` or ``{"id": 1, "error": {"code": int, "message": str}}``. A
subscription's pushes are ``{"method": "snapshot", "params": <snapshot>, "seq": n,
"dropped": d}``: ``seq`` counts pushes due (sent or not), ``dropped`` the ones skipped
because the client was still behind, so a reader can account for every gap.

Shared by the server and the client, so it imports no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgspec

PROTOCOL_VERSION: Final = 1
#: Versions this side speaks, newest last.
SUPPORTED_VERSIONS: Final = (1,)

#: Longest request line the server reads (bytes, newline excluded).
MAX_LINE: Final = 1 << 20

# JSON-RPC 2.0 codes.
PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
# Ours, in the range JSON-RPC reserves for implementations.
LINE_TOO_LONG: Final = -32001
UNSUPPORTED_PROTOCOL: Final = -32002

#: The methods a server answers (all read-only).
METHODS: Final = ("hello", "snapshot", "subscribe", "unsubscribe", "resources", "history",
                  "stacks", "why", "hangs")

RequestId = int | str

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


class ProtocolViolation(Exception):
    """A request line that cannot be served; becomes one error reply."""

    def __init__(self, code: int, message: str, request_id: RequestId | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class Request:
    """A well-formed request."""

    id: RequestId
    method: str
    params: dict[str, Any]


#: Lines up to this long are checked for being blank; a longer run of spaces is a parse error.
_BLANK_CHECK = 4096


def decode_json(line: bytes | bytearray | memoryview) -> Any:
    """Decode one JSON document, turning every way it can be bad into a parse error.

    NaN and Infinity are not JSON and numbers out of float range are refused by msgspec;
    deep nesting stops at the interpreter's recursion limit, which we report as a parse error
    instead of letting a RecursionError escape.
    """
    try:
        return _decoder.decode(line)
    except RecursionError:
        raise ProtocolViolation(PARSE_ERROR, "parse error: JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise ProtocolViolation(PARSE_ERROR, "parse error: invalid UTF-8") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolViolation(PARSE_ERROR, f"parse error: {exc}") from None


def parse_request(line: bytes | bytearray | memoryview) -> Request:
    """Parse and validate one request line (without its newline).

    ``line`` may be a view into a buffer: it is read in place, never copied whole.
    """
    if len(line) <= _BLANK_CHECK and not bytes(line).strip():
        raise ProtocolViolation(INVALID_REQUEST, "invalid request: empty line")
    data = decode_json(line)
    if isinstance(data, list):
        raise ProtocolViolation(INVALID_REQUEST, "invalid request: batches are not supported")
    if not isinstance(data, dict):
        raise ProtocolViolation(
            INVALID_REQUEST, f"invalid request: expected an object, got {_kind(data)}")
    if "id" not in data:
        raise ProtocolViolation(INVALID_REQUEST, "invalid request: missing id")
    rid = data["id"]
    if not isinstance(rid, int | str) or isinstance(rid, bool):
        raise ProtocolViolation(INVALID_REQUEST, "invalid request: id must be an integer or "
                                f"a string, got {_kind(rid)}")
    method = data.get("method")
    if not isinstance(method, str):
        raise ProtocolViolation(
            INVALID_REQUEST, f"invalid request: method must be a string, got {_kind(method)}", rid)
    params = data.get("params")
    if params is None:
        params = {}
    elif not isinstance(params, dict):
        raise ProtocolViolation(
            INVALID_PARAMS, f"invalid params: expected an object, got {_kind(params)}", rid)
    return Request(rid, method, params)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def encode_request(request_id: RequestId, method: str, params: dict[str, Any] | None = None
                   ) -> bytes:
    """One request line, newline included."""
    return _encoder.encode({"id": request_id, "method": method, "params": params or {}}) + b"\n"


def encode_result(request_id: RequestId | None, result: Any) -> bytes:
    """One reply line. ``result`` may be a ``msgspec.Raw`` of JSON already encoded (a
    snapshot's ``to_json()``), which is embedded as is. msgspec writes NaN as ``null``, so
    no reply ever carries a NaN."""
    return _encoder.encode({"id": request_id, "result": result}) + b"\n"


def encode_error(request_id: RequestId | None, code: int, message: str) -> bytes:
    """One error reply line."""
    return _encoder.encode(
        {"id": request_id, "error": {"code": code, "message": message}}) + b"\n"


def encode_push(snapshot_json: bytes, seq: int, dropped: int) -> bytes:
    """One subscription push line around an encoded snapshot."""
    return _encoder.encode({"method": "snapshot", "params": msgspec.Raw(snapshot_json),
                            "seq": seq, "dropped": dropped}) + b"\n"


class ErrorObject(msgspec.Struct, frozen=True):
    """The ``error`` member of a reply."""

    code: int
    message: str


class Envelope(msgspec.Struct, frozen=True):
    """Any line a server sends, with its payload left undecoded until its type is known.

    An absent ``result`` or ``params`` is an empty ``Raw`` (``len() == 0``).
    """

    id: RequestId | None = None
    result: msgspec.Raw = msgspec.Raw()
    error: ErrorObject | None = None
    method: str | None = None
    params: msgspec.Raw = msgspec.Raw()
    seq: int = 0
    dropped: int = 0


_envelope_decoder = msgspec.json.Decoder(Envelope)


def decode_envelope(line: bytes) -> Envelope:
    """Decode a server line; raises ``msgspec.DecodeError``/``ValidationError`` if it is not one."""
    return _envelope_decoder.decode(line)


def negotiate(offered: object) -> int:
    """The newest version both sides speak; ``offered`` is the ``protocol`` param of hello
    (None: the client takes ours)."""
    if offered is None:
        return PROTOCOL_VERSION
    if not isinstance(offered, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in offered):
        raise ProtocolViolation(INVALID_PARAMS,
                                "invalid params: protocol must be a list of integers")
    common = set(offered) & set(SUPPORTED_VERSIONS)
    if not common:
        raise ProtocolViolation(
            UNSUPPORTED_PROTOCOL,
            f"unsupported protocol versions {sorted(offered)}; this server speaks "
            f"{list(SUPPORTED_VERSIONS)}")
    best: int = max(common)
    return best
