"""The socket client the CLI uses: blocking, one request at a time, no Qt.

Failures come out as the error tree: a socket nobody listens on is ``ConnectionFailed``, one
we may not use ``AccessDenied``, an application that goes away mid-reply ``ConnectionLost``,
an error reply ``RemoteError``, a peer that does not speak our protocol ``ProtocolError``.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import socket
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import msgspec

from ..errors import (
    AccessDenied,
    ConnectionFailed,
    ConnectionLost,
    NotAnswering,
    ProtocolError,
    RemoteError,
    RequestTimedOut,
)
from ..metrics.hangs import read_stall_file
from ..metrics.snapshot import History, ResourcePage, Snapshot, WhyResult
from .discovery import check_socket_path, stall_for
from .protocol import (
    SUPPORTED_VERSIONS,
    Envelope,
    decode_envelope,
    encode_request,
)

#: Longest line the client accepts from a server (snapshots of huge apps are big, not this).
MAX_REPLY = 256 << 20
#: Pushes kept while a call waits for its reply; older ones are dropped (and counted).
MAX_BUFFERED_PUSHES = 64
#: A reply this late makes the client read the application's stall file ...
STALL_CHECK_S = 0.5
#: ... and, while the file says the GUI thread is stalled, read it again this often until the
#: watchdog has dumped the threads (the verdict comes within 2 s of the request).
_STALL_RECHECK_S = 0.1
_STALL_VERDICT_BY_S = 1.9

_T = TypeVar("_T")
_snapshot_decoder = msgspec.json.Decoder(Snapshot)
_page_decoder = msgspec.json.Decoder(ResourcePage)
_history_decoder = msgspec.json.Decoder(History)
_any_decoder = msgspec.json.Decoder()
_why_decoder = msgspec.json.Decoder(WhyResult)


class InspectorClient:
    """A connection to one application's inspector socket.

    Connecting sends ``hello`` and checks that a common protocol version exists;
    :attr:`hello_info` holds the answer (``app``, ``pid``, ``versions``, ``protocol``).
    """

    def __init__(self, path: Path | str, timeout: float = 5.0,
                 stall_check_s: float | None = STALL_CHECK_S) -> None:
        self.path = Path(path)
        self.timeout = timeout
        #: After this long without a reply, the stall file is read: if native code holds
        #: the GIL, :class:`NotAnswering` says so instead of a blind timeout (None: never).
        self.stall_check_s = stall_check_s
        self._check_at = float("inf")
        self._asked_at = 0.0
        self._ids = itertools.count(1)
        self._buf = bytearray()
        self._pushes: deque[Envelope] = deque()
        #: Pushes the server skipped (it reports them) plus ones this client discarded.
        self.pushes_dropped = 0
        self.last_seq = 0
        self._sock: socket.socket | None = self._connect()
        try:
            self.hello_info: dict[str, Any] = self.call(
                "hello", {"protocol": list(SUPPORTED_VERSIONS)})
        except RemoteError as exc:
            self.close()
            raise ProtocolError(f"{self.path}: {exc.message}") from None
        except BaseException:
            self.close()
            raise
        if self.hello_info.get("protocol") not in SUPPORTED_VERSIONS:
            self.close()
            raise ProtocolError(
                f"{self.path} speaks protocol {self.hello_info.get('protocol')!r}, "
                f"this client {list(SUPPORTED_VERSIONS)}")

    # -- connection -----------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        check_socket_path(self.path)
        try:
            owner = os.stat(self.path).st_uid
        except FileNotFoundError:
            raise ConnectionFailed(f"cannot connect to {self.path}: no such socket") from None
        except PermissionError:
            raise AccessDenied(f"cannot connect to {self.path}: permission denied") from None
        if owner != os.geteuid():
            # The server would close the connection unanswered; say why instead.
            raise AccessDenied(
                f"cannot connect to {self.path}: it belongs to uid {owner}, not {os.geteuid()}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(os.fspath(self.path))
        except OSError as exc:
            sock.close()
            raise _connect_error(self.path, exc) from None
        return sock

    def close(self) -> None:
        """Close the connection; idempotent."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> InspectorClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send one request and return its decoded ``result``; raises ``RemoteError``."""
        return _any_decoder.decode(self._call_raw(method, params))

    def _call_raw(self, method: str, params: dict[str, Any] | None) -> bytes:
        request_id = next(self._ids)
        self._send(encode_request(request_id, method, params))
        deadline = time.monotonic() + self.timeout
        self._arm_stall_check()
        while True:
            env = self._read_envelope(deadline)
            if env.id is None and env.method is not None:
                self._keep_push(env)
                continue
            if env.id != request_id:
                if env.error is not None and env.id is None:
                    raise RemoteError(env.error.code, env.error.message)
                raise ProtocolError(f"{self.path} answered request {env.id!r}, "
                                    f"expected {request_id}")
            if env.error is not None:
                raise RemoteError(env.error.code, env.error.message)
            if not env.result:
                raise ProtocolError(f"{self.path} sent a reply with neither result nor error")
            return bytes(env.result)

    def _typed(self, method: str, params: dict[str, Any] | None,
               decoder: msgspec.json.Decoder[_T]) -> _T:
        raw = self._call_raw(method, params)
        try:
            return decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ProtocolError(f"{self.path} sent a malformed {method} reply: {exc}") from None

    def snapshot(self, *, objects: bool = False) -> Snapshot:
        """One snapshot of now; ``objects``: with Python objects by type (costs the app a
        ``gc.get_objects()`` on its server thread)."""
        return self._typed("snapshot", {"objects": True} if objects else None,
                           _snapshot_decoder)

    def resources(self, offset: int = 0, limit: int = 500, component_id: str | None = None
                  ) -> ResourcePage:
        """A page of the resource listing."""
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if component_id is not None:
            params["component_id"] = component_id
        return self._typed("resources", params, _page_decoder)

    def history(self) -> History:
        """The application's history ring buffers."""
        return self._typed("history", None, _history_decoder)

    def why(self, resource_id: str) -> WhyResult:
        """The chain of references that keeps a resource alive; ``RemoteError`` (invalid
        params) when the id is unknown or gone. The application may take up to 2 s."""
        return self._typed("why", {"resource_id": resource_id}, _why_decoder)

    def stacks(self) -> dict[str, Any]:
        """Every thread's stack: ``{"main_thread", "gui_thread", "threads": [{"id", "name",
        "kind", "gui", "main", "qthread", "component", "stack", ...}]}``, the GUI thread
        first, each stack innermost last."""
        result: dict[str, Any] = self.call("stacks")
        return result

    def hangs(self) -> dict[str, Any]:
        """The hang log: ``{"hangs": [...] newest last, "count", "total_ms", "max_ms",
        "threshold_ms", "by_function", "stalled_ms"}`` (count, totals: the whole run)."""
        result: dict[str, Any] = self.call("hangs")
        return result

    def subscribe(self, interval: float = 1.0) -> Iterator[Snapshot]:
        """Subscribe and yield each pushed snapshot (the first comes at once).

        :attr:`pushes_dropped` and :attr:`last_seq` account for skipped pushes. Stop with
        :meth:`unsubscribe` or :meth:`close`; a push that does not come within the interval
        plus the timeout raises ``RequestTimedOut`` (a ``ConnectionLost``).
        """
        result = self.call("subscribe", {"interval": interval})
        actual = float(result.get("interval", interval))
        return self._pushes_iter(actual)

    def _pushes_iter(self, interval: float) -> Iterator[Snapshot]:
        while self._sock is not None:
            if self._pushes:
                env = self._pushes.popleft()
            else:
                self._arm_stall_check(interval)
                env = self._read_envelope(time.monotonic() + interval + self.timeout)
                if env.id is not None or env.method is None:
                    raise ProtocolError(f"{self.path} sent a reply nobody asked for")
                self._account(env)
            if not env.params:
                raise ProtocolError(f"{self.path} sent a push without params")
            try:
                yield _snapshot_decoder.decode(env.params)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ProtocolError(f"{self.path} pushed a malformed snapshot: {exc}") from None

    def unsubscribe(self) -> bool:
        """End the subscription; pushes still buffered are discarded. True if there was one."""
        result = self.call("unsubscribe")
        self._pushes.clear()
        return bool(result.get("unsubscribed"))

    # -- lines ----------------------------------------------------------------------------

    def _keep_push(self, env: Envelope) -> None:
        self._account(env)
        if len(self._pushes) >= MAX_BUFFERED_PUSHES:
            self._pushes.popleft()
            self.pushes_dropped += 1
        self._pushes.append(env)

    def _account(self, env: Envelope) -> None:
        if self.last_seq and env.seq > self.last_seq + 1:
            self.pushes_dropped += env.seq - self.last_seq - 1
        self.last_seq = env.seq

    def _send(self, data: bytes) -> None:
        sock = self._require_socket()
        try:
            sock.sendall(data)
        except TimeoutError:
            raise RequestTimedOut(f"{self.path} did not take a request within "
                                 f"{self.timeout:g} s") from None
        except OSError as exc:
            raise self._lost(exc) from None

    def _lost(self, exc: OSError) -> Exception:
        """The error for a connection lost with ``exc``. A server that refuses a client (all
        its connections busy) or closes an idle one says why in one error line before it
        closes: that line, if it came, is the better explanation than "broken pipe"."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError, ValueError):
                sock.settimeout(0.5)
                while b"\n" not in self._buf and len(self._buf) < 65536:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    self._buf += chunk
            line, newline, _ = bytes(self._buf).partition(b"\n")
            if newline:
                with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                    env = decode_envelope(line)
                    if env.error is not None and env.id is None:
                        return RemoteError(env.error.code, env.error.message)
        return ConnectionLost(f"lost the connection to {self.path}: {exc.strerror or exc}")

    def _read_envelope(self, deadline: float) -> Envelope:
        line = self._read_line(deadline)
        try:
            return decode_envelope(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ProtocolError(f"{self.path} sent something that is not the protocol: "
                                f"{exc}") from None

    def _read_line(self, deadline: float) -> bytes:
        sock = self._require_socket()
        buf = self._buf
        scanned = 0
        while True:
            end = buf.find(b"\n", scanned)
            if end >= 0:
                line = bytes(buf[:end])
                del buf[:end + 1]
                return line
            scanned = len(buf)
            if scanned > MAX_REPLY:
                raise ProtocolError(f"{self.path} sent a line over {MAX_REPLY} bytes")
            now = time.monotonic()
            if now >= self._check_at:
                self._check_stall(now)
            remaining = deadline - now
            if remaining <= 0:
                raise RequestTimedOut(f"no answer from {self.path} within "
                                     f"{self.timeout:g} s")
            sock.settimeout(max(0.001, min(remaining, self._check_at - now)))
            try:
                chunk = sock.recv(1 << 18)
            except TimeoutError:
                continue  # the deadline check above reports it
            except OSError as exc:
                raise self._lost(exc) from None
            if not chunk:
                what = "in the middle of a reply" if buf else "without a reply"
                raise ConnectionLost(f"{self.path} closed the connection {what}")
            buf += chunk

    def _arm_stall_check(self, after: float = 0.0) -> None:
        """Read the stall file if nothing comes within ``after`` + the stall check time."""
        self._asked_at = time.monotonic() + after
        self._check_at = (self._asked_at + self.stall_check_s
                          if self.stall_check_s is not None else float("inf"))

    def _check_stall(self, now: float) -> None:
        """No reply yet: if the application's stall file shows its GUI thread stuck and the
        watchdog's dump, native code holds the GIL - say so (:class:`NotAnswering`)."""
        self._check_at = float("inf")
        report = read_stall_file(stall_for(self.path))
        if report is None:
            return  # no stall file: an older server, or none could be made
        stalled = report.stalled_for(now)
        if stalled < report.timeout_s:
            # Re-armed within its timeout: a Python thread ran lately (the GIL is free), or
            # the watchdog has yet to fire. Look again just after it would have.
            self._check_at = now + report.timeout_s - stalled + _STALL_RECHECK_S
            return
        if report.fired:
            self.close()  # the reply, if it ever comes, answers nobody
            raise NotAnswering(report.verdict(), report)
        if now - self._asked_at < _STALL_VERDICT_BY_S:
            self._check_at = now + _STALL_RECHECK_S

    def _require_socket(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionLost(f"the connection to {self.path} is closed")
        return self._sock


def _connect_error(path: Path, exc: OSError) -> Exception:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return AccessDenied(f"cannot connect to {path}: permission denied")
    if exc.errno in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK):
        reason = "nobody listens there (the application has exited?)" \
            if exc.errno == errno.ECONNREFUSED else (exc.strerror or str(exc)).lower()
        return ConnectionFailed(f"cannot connect to {path}: {reason}")
    if isinstance(exc, TimeoutError):
        return ConnectionFailed(f"cannot connect to {path}: timed out")
    return ConnectionFailed(f"cannot connect to {path}: {exc.strerror or exc}")
