"""Protocol fuzzing with a Hypothesis state machine (the way varlink and PostgreSQL fuzz their
wire protocols): random frames, valid and not, cut at random points across several
connections that open, subscribe, track resources and vanish at random."""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import msgspec
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inspector.resources import ResourceManagementService, ResourceType
from inspector.server import InspectorServer
from inspector.server.protocol import METHODS
from tests.server.test_protocol import BAD_LINES

from .conftest import open_sockets, settle

MAX_CONNS = 6

VALID = [
    b'{"id": 1, "method": "hello", "params": {"protocol": [1]}}',
    b'{"id": "s", "method": "snapshot"}',
    b'{"id": 2, "method": "resources", "params": {"offset": 0, "limit": 5}}',
    b'{"id": 3, "method": "history", "params": {}}',
    b'{"id": 4, "method": "unsubscribe"}',
    b'{"id": 5, "method": "stacks"}',
]
SHORT_BAD = [line for line, _, _ in BAD_LINES if len(line) < 10_000]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)

requests = st.builds(
    lambda rid, method, params: msgspec.json.encode(
        {"id": rid, "method": method, "params": params}),
    st.integers() | st.text(max_size=10),
    st.sampled_from([*METHODS, "subscribe", "frobnicate", ""]),
    st.dictionaries(st.sampled_from(["interval", "offset", "limit", "protocol", "x"]),
                    json_values, max_size=3) | json_values)

frames = st.one_of(
    st.sampled_from(VALID),
    st.sampled_from(SHORT_BAD),
    requests,
    json_values.map(msgspec.json.encode),
    st.binary(max_size=300),
).map(lambda b: b.replace(b"\n", b" "))


class FuzzConn:
    """One fuzzed connection: what was sent, and every line that came back."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.expected = 0  # one reply per newline sent
        self.replies = 0
        self.buf = b""

    def send(self, data: bytes, cuts: list[int]) -> None:
        bounds = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
        for a, b in itertools.pairwise(bounds):
            if b > a:
                self.sock.sendall(data[a:b])
        self.expected += data.count(b"\n")

    def collect(self, check: Callable[[dict[str, Any]], None]) -> None:
        """Read until every reply owed has come, checking each line."""
        while self.replies < self.expected:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(1 << 18)
                assert chunk, f"closed with {self.expected - self.replies} replies owed"
                self.buf += chunk
            line, _, self.buf = self.buf.partition(b"\n")
            # Strict JSON: msgspec rejects NaN and Infinity tokens, while an echoed request id
            # may be the string "Infinity" (a substring check failed on exactly that).
            msg = msgspec.json.decode(line)
            assert isinstance(msg, dict)
            if "id" in msg:  # a reply (pushes carry a method, never an id)
                assert ("result" in msg) != ("error" in msg), msg
                self.replies += 1
                check(msg)
            else:
                assert msg["method"] == "snapshot"
                assert msg["seq"] >= 1

    def close(self) -> None:
        self.sock.close()


def check_reply(msg: dict[str, Any]) -> None:
    """Replies that carry a snapshot must be consistent snapshots."""
    result = msg.get("result")
    if isinstance(result, dict) and result.get("schema") == "resinspect.snapshot/1":
        assert result["created_total"] - result["destroyed_total"] == result["live_resources"]


class Thing:
    """A resource the machine tracks between frames."""


class ProtocolMachine(RuleBasedStateMachine):
    """Connections come and go; frames are cut anywhere; the registry changes meanwhile."""

    server: InspectorServer
    service: ResourceManagementService
    sockets_before: set[str]

    def __init__(self) -> None:
        super().__init__()
        self.conns: list[FuzzConn] = []
        self.owner = Thing()
        self.tracked: dict[str, Thing] = {}

    @precondition(lambda self: len(self.conns) < MAX_CONNS)
    @rule()
    def connect(self) -> None:
        self.conns.append(FuzzConn(str(self.server.path)))

    @precondition(lambda self: self.conns)
    @rule(data=st.data(), batch=st.lists(st.tuples(frames, st.booleans()), min_size=1,
                                         max_size=6),
          cuts=st.lists(st.integers(0, 2000), max_size=6))
    def send(self, data: st.DataObject, batch: list[tuple[bytes, bool]],
             cuts: list[int]) -> None:
        """Frames, most ending in a newline (one that does not runs into the next), sent in
        pieces cut at random byte offsets."""
        conn = data.draw(st.sampled_from(self.conns))
        conn.send(b"".join(frame + (b"\n" if newline else b"") for frame, newline in batch),
                  cuts)

    @precondition(lambda self: self.conns)
    @rule(data=st.data(), interval=st.floats(0.05, 0.3))
    def subscribe(self, data: st.DataObject, interval: float) -> None:
        conn = data.draw(st.sampled_from(self.conns))
        conn.send(b'{"id": "sub", "method": "subscribe", "params": {"interval": %r}}\n'
                  % interval, [])

    @precondition(lambda self: self.conns)
    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        data.draw(st.sampled_from(self.conns)).collect(check_reply)

    @precondition(lambda self: self.conns)
    @rule(data=st.data())
    def vanish(self, data: st.DataObject) -> None:
        conn = data.draw(st.sampled_from(self.conns))
        self.conns.remove(conn)
        conn.close()  # with replies owed, pushes in flight or half a frame sent: all fine

    @rule(n=st.integers(1, 5))
    def track(self, n: int) -> None:
        for _ in range(n):
            thing = Thing()
            rid = self.service.track_resource(self.owner, ResourceType.CACHE, thing, 10)
            self.tracked[rid] = thing

    @precondition(lambda self: self.tracked)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.tracked)))
        assert self.service.release_resource(self.owner, rid)
        del self.tracked[rid]

    @invariant()
    def server_alive(self) -> None:
        assert self.server.running

    @invariant()
    def registry_consistent(self) -> None:
        stats = self.service.get_statistics()
        assert stats["live_resources"] == len(self.tracked)
        assert stats["created_total"] - stats["destroyed_total"] == stats["live_resources"]

    @invariant()
    def sockets_bounded(self) -> None:
        # Sockets, not every descriptor: Qt and the interpreter open and close files of their
        # own at any moment (a count of all descriptors once read 46 against a limit of 44).
        # Ours are each connection and the server's end of it, with slack for the server
        # closing a vanished connection's end on its own thread a moment later: a leak
        # never settles, a late close does.
        limit = 2 * MAX_CONNS + 2 * MAX_CONNS

        def new() -> set[str]:
            return open_sockets() - self.sockets_before

        assert settle(lambda: len(new()) <= limit), (sorted(new()), limit)

    def teardown(self) -> None:
        # The owner's resources go whatever fails here: an example that failed while
        # collecting once left 5 live resources to the next, whose first invariant then
        # failed, and Hypothesis reported FlakyStrategyDefinition instead of the failure.
        try:
            for conn in self.conns:
                conn.collect(check_reply)  # everything owed still arrives
        finally:
            for conn in self.conns:
                conn.close()
            self.service.cleanup_component(self.owner)


def test_protocol_fuzz_state_machine(server: InspectorServer,
                                     service: ResourceManagementService,
                                     size: Callable[[int, int], int],
                                     figure: Callable[[str, object], None]) -> None:
    examples = size(500, 500)
    # A fuzzed connection may hold a partial line across many steps; on a loaded machine that
    # outlasts the idle limit for silent connections (tested on its own in test_hardening),
    # which would close it mid-example and make the run depend on the machine's speed.
    server.idle_timeout = 600.0
    sockets = open_sockets()
    ProtocolMachine.server = server
    ProtocolMachine.service = service
    ProtocolMachine.sockets_before = sockets
    started = time.monotonic()
    # No shrinking: a failing example here waits out socket timeouts on every attempt, and a
    # failure on a newcomer's machine shrank past the 120 s timeout, which ends the whole run
    # with no example shown. Unshrunk, the example (at most 20 steps) is reported at once.
    run_state_machine_as_test(ProtocolMachine, settings=settings(
        max_examples=examples, stateful_step_count=20, deadline=None, database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate]))
    elapsed = time.monotonic() - started
    assert settle(lambda: server.stats()["clients"] == 0)
    # Every socket the run opened is closed again (the server's late closes awaited).
    assert settle(lambda: open_sockets() <= sockets), open_sockets() - sockets
    stats = server.stats()
    figure("examples", examples)
    figure("seconds", elapsed)
    figure("connections", stats["accepted"])
    figure("requests", stats["requests"])
    figure("errors_answered", stats["errors"])
    assert server.running
    assert stats["dropped"] == 0  # nobody was dropped: every client read what it was owed
    assert os.getpid() == server._pid
