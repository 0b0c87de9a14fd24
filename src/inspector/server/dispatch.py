"""From a request line to its reply: parse, find the handler, check the params, answer.

A request whose handler runs off the loop comes back as a :class:`Deferred` for the helper
thread (:mod:`inspector.server.offloop`); every other one as the reply's bytes. The one place
that turns a failure into an error reply is :func:`error_reply`. No sockets: tests feed lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from ..metrics.text import encodable_tree
from .handlers import Handler, Session
from .protocol import (
    INTERNAL_ERROR,
    METHOD_NOT_FOUND,
    ProtocolViolation,
    RequestId,
    encode_error,
    encode_result,
    parse_request,
)

log = logging.getLogger("inspector.server")


@dataclass(frozen=True, slots=True)
class Deferred:
    """A checked request whose handler runs off the loop."""

    request_id: RequestId
    method: str
    handler: Handler
    session: Session
    params: Any

    def run(self) -> Any:
        """The handler's result (on the helper thread)."""
        return self.handler.run(self.session, self.params)


def encode_reply(request_id: RequestId | None, result: Any) -> bytes:
    """:func:`encode_result`, with names UTF-8 cannot carry (undecodable bytes) escaped."""
    try:
        return encode_result(request_id, result)
    except UnicodeEncodeError:
        return encode_result(request_id, encodable_tree(msgspec.to_builtins(result)))


def error_reply(request_id: RequestId | None, exc: Exception) -> bytes:
    """The error reply for ``exc``: a ``ProtocolViolation`` as itself, anything else as an
    internal error naming it (the caller logged its traceback)."""
    if isinstance(exc, ProtocolViolation):
        return encode_error(exc.request_id if exc.request_id is not None else request_id,
                            exc.code, exc.message)
    return encode_error(request_id, INTERNAL_ERROR,
                        f"internal error: {type(exc).__name__}: {exc}")


def result_reply(request_id: RequestId | None, work: Callable[[], Any]) -> tuple[bytes, bool]:
    """``(reply, failed)``: ``work()``'s result encoded, or the error it raised."""
    try:
        return encode_reply(request_id, work()), False
    except ProtocolViolation as exc:
        return error_reply(request_id, exc), True
    except Exception as exc:
        log.exception("resinspect: request failed")
        return error_reply(request_id, exc), True


class Dispatcher:
    """Answers request lines with a table of handlers; counts the requests that failed."""

    def __init__(self, table: Mapping[str, Handler]) -> None:
        self.table = table
        #: Requests answered on the loop with an error.
        self.errors = 0

    def answer(self, session: Session, line: bytes | bytearray | memoryview
               ) -> bytes | Deferred:
        """The reply to one request line, or the request to run off the loop.

        A memoryview is released here before anything else, whatever happens: the buffer it
        views can be neither cleared nor resized while a view of it exists.
        """
        request_id: RequestId | None = None
        try:
            try:
                request = parse_request(line)
            finally:
                if isinstance(line, memoryview):
                    line.release()
            request_id = request.id
            handler = self.table.get(request.method)
            if handler is None:
                raise ProtocolViolation(METHOD_NOT_FOUND,
                                        f"method not found: {request.method!r}", request_id)
            params = handler.checked(request.params)
        except ProtocolViolation as exc:
            self.errors += 1
            return error_reply(request_id, exc)
        except Exception as exc:  # a bug in parsing must cost one reply, not the client
            self.errors += 1
            log.exception("resinspect: request failed")
            return error_reply(request_id, exc)
        if handler.off_loop:
            return Deferred(request_id, request.method, handler, session, params)
        reply, failed = result_reply(request_id, lambda: handler.run(session, params))
        self.errors += failed
        return reply
