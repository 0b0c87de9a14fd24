"""The table of methods the server answers: each one's params, its answer, and whether it runs
off the server's loop.

Nothing here touches a socket: a handler takes the asking connection's :class:`Session` and
its checked params and returns the reply's result, so the table is tested with plain calls.
The transport (:mod:`inspector.server.transport`) knows no method; the dispatcher
(:mod:`inspector.server.dispatch`) joins the two.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any

import msgspec

from ..metrics.text import encodable_tree
from .protocol import INVALID_PARAMS, METHOD_NOT_FOUND, METHODS, ProtocolViolation, negotiate
from .source import ExplainingSource, HangSource, MetricsSource
from .stacks import stacks_reply

#: Shortest subscription interval (seconds); shorter requests are raised to it.
MIN_INTERVAL = 0.05
#: Longest page of ``resources``.
MAX_PAGE = 10_000
#: Largest ``resources`` offset (2**53, JSON's exact integers): 10**30 failed deep inside.
MAX_OFFSET = 1 << 53

#: The ``hangs`` reply of a source without a hang log: it has seen no stall.
NO_HANGS: Mapping[str, Any] = MappingProxyType({
    "hangs": [], "count": 0, "total_ms": 0.0, "max_ms": 0.0, "threshold_ms": 0.0,
    "by_function": [], "stalled_ms": 0.0})


class NoParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Params of a method that takes none."""


class HelloParams(msgspec.Struct, frozen=True):
    """``hello``: the protocol versions the client speaks (unknown fields are ignored, so a
    newer client can say more)."""

    protocol: list[int] | None = None


class SnapshotParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``snapshot``: ``objects`` adds Python objects by type (costs a ``gc.get_objects()``)."""

    objects: bool = False


class SubscribeParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``subscribe``: seconds between pushes."""

    interval: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 1.0


class WhyParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``why``: the resource to explain."""

    resource_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ResourcesParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``resources``: one page of the listing, optionally of one component."""

    offset: Annotated[int, msgspec.Meta(ge=0, le=MAX_OFFSET)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE)] = 500
    component_id: str | None = None


class Session:
    """What the protocol keeps per connection: its subscription (``interval`` is None when
    it has none), the pushes due so far (``seq``) and those skipped because it was behind
    (``dropped``). Touched only by the server's loop thread."""

    __slots__ = ("dropped", "interval", "next_push", "seq")

    def __init__(self) -> None:
        self.interval: float | None = None
        self.next_push = 0.0
        self.seq = 0
        self.dropped = 0

    def subscribe(self, interval: float, now: float) -> float:
        """Push every ``interval`` seconds (at least :data:`MIN_INTERVAL`), the first at
        ``now``; returns the interval used."""
        self.interval = max(MIN_INTERVAL, interval)
        self.next_push = now
        return self.interval

    def unsubscribe(self) -> bool:
        """Stop pushing; whether it was subscribed."""
        was = self.interval is not None
        self.interval = None
        return was


@dataclass(frozen=True, slots=True)
class Handler:
    """One method: its params struct and what answers it.

    ``off_loop`` handlers run on the helper thread, because they may wait (``stacks`` waits up
    to 100 ms for the GUI thread to run a signal handler) or work long (``why`` walks the
    heap for up to 2 s); the loop must spend neither. A ``shared`` one answers every request
    waiting for it with one run (the stacks are read once for all of them).
    """

    params: type[Any]
    run: Callable[[Session, Any], Any]
    off_loop: bool = False
    shared: bool = False

    def checked(self, params: dict[str, Any]) -> Any:
        """``params`` as this method's struct; ``ProtocolViolation`` (invalid params) if not."""
        try:
            return msgspec.convert(params, self.params)
        except msgspec.ValidationError as exc:
            raise ProtocolViolation(INVALID_PARAMS, f"invalid params: {exc}") from None


class SnapshotCache:
    """The source's snapshot as JSON, taken at most once per loop turn and shared by every
    request and push of that turn."""

    def __init__(self, source: MetricsSource) -> None:
        self._source = source
        self._json: bytes | None = None

    def new_turn(self) -> None:
        """Forget the turn's snapshot: the next request takes a new one."""
        self._json = None

    def json(self) -> bytes:
        """The turn's snapshot, encoded."""
        if self._json is None:
            snap = self._source.snapshot()
            try:
                self._json = snap.to_json()
            except UnicodeEncodeError:
                # A name with undecodable bytes (kept by surrogateescape) cannot be UTF-8:
                # shown escaped in this snapshot, rather than failing every one of them.
                self._json = msgspec.json.encode(encodable_tree(msgspec.to_builtins(snap)))
        return self._json


@dataclass(frozen=True, slots=True)
class Identity:
    """What ``hello`` says about the serving process."""

    app: str
    pid: int
    started_at: float
    versions: Mapping[str, str]


class Methods:
    """The handlers of one server, over one source; :attr:`table` maps each name in
    ``protocol.METHODS`` to its :class:`Handler`."""

    def __init__(self, source: MetricsSource, identity: Identity,
                 snapshots: SnapshotCache | None = None) -> None:
        self.source = source
        self.identity = identity
        self.snapshots = snapshots if snapshots is not None else SnapshotCache(source)
        self.table: Mapping[str, Handler] = MappingProxyType({
            "hello": Handler(HelloParams, self.hello),
            "snapshot": Handler(SnapshotParams, self.snapshot),
            "subscribe": Handler(SubscribeParams, self.subscribe),
            "unsubscribe": Handler(NoParams, self.unsubscribe),
            "resources": Handler(ResourcesParams, self.resources),
            "history": Handler(NoParams, self.history),
            "stacks": Handler(NoParams, self.stacks, off_loop=True, shared=True),
            "why": Handler(WhyParams, self.why, off_loop=True),
            "hangs": Handler(NoParams, self.hangs),
        })

    def hello(self, session: Session, params: HelloParams) -> dict[str, Any]:
        """Who serves, which protocol version both sides speak, and the methods."""
        ident = self.identity
        return {"app": ident.app, "pid": ident.pid, "versions": dict(ident.versions),
                "protocol": negotiate(params.protocol), "methods": list(METHODS),
                "started_at": ident.started_at}

    def snapshot(self, session: Session, params: SnapshotParams) -> msgspec.Raw:
        """The turn's snapshot; with ``objects``, a fresh one with Python objects by type."""
        if params.objects:
            from ..metrics.objects import count_objects

            snap = msgspec.structs.replace(self.source.snapshot(),
                                           python_objects=count_objects())
            return msgspec.Raw(snap.to_json())
        return msgspec.Raw(self.snapshots.json())

    def subscribe(self, session: Session, params: SubscribeParams) -> dict[str, Any]:
        """Push snapshots every ``interval`` seconds, the first right after this reply."""
        interval = session.subscribe(params.interval, time.monotonic())
        return {"interval": interval, "seq": session.seq, "dropped": session.dropped}

    def unsubscribe(self, session: Session, params: NoParams) -> dict[str, Any]:
        """Stop pushing: pushes are queued only by the loop thread, so none follows this."""
        was = session.unsubscribe()
        return {"unsubscribed": was, "seq": session.seq, "dropped": session.dropped}

    def resources(self, session: Session, params: ResourcesParams) -> Any:
        """A page of the resource listing."""
        return self.source.resources(params.offset, params.limit, params.component_id)

    def history(self, session: Session, params: NoParams) -> Any:
        """The source's history columns."""
        return self.source.history()

    def stacks(self, session: Session, params: NoParams) -> dict[str, Any]:
        """Every thread's Python stack (off the loop: it waits for the GUI thread)."""
        return stacks_reply(self.source)

    def why(self, session: Session, params: WhyParams) -> Any:
        """What keeps a resource alive (off the loop: it walks the heap)."""
        if not isinstance(self.source, ExplainingSource):  # a replay has no heap to walk
            raise ProtocolViolation(METHOD_NOT_FOUND, "why is not available from this source")
        try:
            return self.source.why(params.resource_id)
        except LookupError as exc:
            raise ProtocolViolation(INVALID_PARAMS, str(exc.args[0])) from None

    def hangs(self, session: Session, params: NoParams) -> Any:
        """The hang log (empty for a source without one)."""
        if isinstance(self.source, HangSource):
            return self.source.hangs()
        return dict(NO_HANGS)
