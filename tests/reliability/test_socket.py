"""The socket server against many, slow, vanishing, hostile and foreign clients, served by real
application processes (systemd varlink's and tmux's server tests, PostgreSQL's socket lock).

Where tests/server already proves a row of the issue's table, the test here is the stronger
variant (a real process, its heartbeat, its descriptors), and its docstring says what is new.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import stat
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import msgspec
import psutil
import pytest

from inspector.errors import ServerAlreadyRunning, UnsafeRuntimeDirectory
from inspector.metrics import MetricsModel
from inspector.server import InspectorServer, discovery
from inspector.server.client import InspectorClient
from inspector.server.protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    LINE_TOO_LONG,
    MAX_LINE,
    PARSE_ERROR,
)
from inspector.server.server import LOG_BURST, SERVER_BUSY
from tests.apps.harness import resinspect
from tests.server.conftest import RawConn
from tests.server.test_protocol import BAD_LINES

from .conftest import native_threads, open_fds, settle
from .live import SERVED_APP, LiveApp, heartbeat_gap_ms, live_app
from .wire import Wire, gaps_unaccounted, pump

HELLO = b'{"id": 1, "method": "hello"}\n'


# -- fan-out ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_fan_out_50_subscribers_at_10_hz(runtime_dir: Path, size: Callable[[float, float], float],
                                         figure: Callable[[str, object], None]) -> None:
    n, interval, duration = 50, 0.1, size(5.0, 30.0)
    with live_app(runtime_dir, SERVED_APP, "--components", "200") as app:
        assert app.socket is not None
        threads_before, fds_before = native_threads(app.pid), open_fds(app.pid)
        wires = [Wire(app.socket) for _ in range(n)]
        for w in wires:
            w.request(1, "subscribe", {"interval": interval})
        thread_samples = []
        started = time.monotonic()
        while time.monotonic() - started < duration:
            pump(wires, 0.25)
            thread_samples.append(native_threads(app.pid))
        elapsed = time.monotonic() - started
        for w in wires:
            w.close()
        fds_back = settle(lambda: open_fds(app.pid) == fds_before, 5)
        fds_after = open_fds(app.pid)
        assert app.stop() == 0, app.errors()[-2000:]
    expected = elapsed / interval
    counts = [len(w.pushes) for w in wires]
    dropped = sum(w.pushes[-1][1] for w in wires if w.pushes)
    figure("subscribers", n)
    figure("seconds", elapsed)
    figure("pushes_total", sum(counts))
    figure("pushes_per_subscriber_min", min(counts))
    figure("pushes_expected_each", round(expected, 1))
    figure("dropped_total", dropped)
    figure("threads_before_during_max", f"{threads_before}/{max(thread_samples)}")
    figure("fds_before_after", f"{fds_before}/{fds_after}")
    figure("heartbeat_max_gap_ms", heartbeat_gap_ms(app))
    for w in wires:
        assert w.replies[:1] == [(1, None)]  # the subscribe reply came first
        assert gaps_unaccounted(w.pushes) == []
    assert min(counts) >= 0.7 * expected, counts  # every subscriber kept the pace
    assert set(thread_samples) == {threads_before}  # no thread per client, none leaked
    assert fds_back, (fds_before, fds_after)
    assert heartbeat_gap_ms(app) < 250


# -- slow consumers --------------------------------------------------------------------------------


def _flood(path: Path, stop: threading.Event, outcome: dict[str, object]) -> None:
    """Send snapshot requests and never read a reply, until the server drops us."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    sock.connect(str(path))
    batch = b'{"id": 1, "method": "snapshot"}\n' * 50
    sent = 0
    try:
        while not stop.is_set() and sent < 1 << 30:
            sock.sendall(batch)
            sent += len(batch)
    except (BrokenPipeError, ConnectionResetError):
        outcome["dropped"] = True
    except TimeoutError:
        outcome["stalled"] = True  # the server stopped reading us: also a bound
    finally:
        outcome["sent"] = sent
        sock.close()


def _probe(path: Path, stop: threading.Event, latencies: list[float], lags: list[float]) -> None:
    """Round trips from a client that does everything right, timed; a failed one counts as
    an infinite latency (a thread's exception would otherwise only be a warning)."""
    try:
        with InspectorClient(path, timeout=5) as client:
            while not stop.is_set():
                started = time.monotonic()
                snap = client.snapshot()
                latencies.append(time.monotonic() - started)
                lags.append(snap.event_loop_lag_ms)
                stop.wait(0.05)
    except Exception:  # noqa: BLE001 - any failure is an infinite latency, which fails the test
        latencies.append(float("inf"))


def test_clients_that_never_read_are_dropped_and_nobody_else_notices(
        runtime_dir: Path, figure: Callable[[str, object], None]) -> None:
    """Stronger than tests/server's in-process drop tests: a real app process whose GUI-thread
    heartbeat is measured, a subscriber that never reads and a requester that never reads
    at the same time, three reading subscribers and a timed prober alongside."""
    with live_app(runtime_dir, SERVED_APP, "--components", "2000", "--stall-timeout", "1",
                  "--max-queue", str(512 * 1024)) as app:
        path = app.socket
        assert path is not None
        silent = Wire(path, rcvbuf=4096)  # subscribes, then never reads a byte
        silent.request(1, "subscribe", {"interval": 0.05})
        stop = threading.Event()
        flood: dict[str, object] = {}
        latencies: list[float] = []
        lags: list[float] = []
        helpers = [threading.Thread(target=_flood, args=(path, stop, flood), daemon=True),
                   threading.Thread(target=_probe, args=(path, stop, latencies, lags),
                                    daemon=True)]
        good = [Wire(path) for _ in range(3)]
        for w in good:
            w.request(1, "subscribe", {"interval": 0.1})
        for t in helpers:
            t.start()
        started = time.monotonic()

        def both_dropped() -> bool:
            text = app.errors()
            return "accepted no data" in text and "unsent" in text

        pump(good, 8.0, until=both_dropped)
        took = time.monotonic() - started
        pump(good, 1.0)  # and the others carry on afterwards
        stop.set()
        for t in helpers:
            t.join(10)
        silent.readable()
        for w in good:
            w.close()
        assert app.stop() == 0
    log = app.errors()
    figure("seconds_until_both_dropped", took)
    figure("prober_round_trips", len(latencies))
    figure("prober_worst_ms", max(latencies) * 1000)
    figure("good_subscriber_pushes", [len(w.pushes) for w in good])
    figure("good_subscriber_dropped", [w.pushes[-1][1] if w.pushes else -1 for w in good])
    figure("heartbeat_max_gap_ms", heartbeat_gap_ms(app))
    assert both_dropped(), log[-3000:]
    assert "dropped client" in log  # each drop is logged with its reason
    assert flood.get("dropped"), flood  # past max_queue: closed under its writes
    assert silent.eof  # past the stall timeout: closed
    assert max(latencies) < 0.5
    assert all(lag == 0 for lag in lags)  # the GUI thread never waited on the server
    assert heartbeat_gap_ms(app) < 250
    for w in good:
        assert gaps_unaccounted(w.pushes) == []
        assert len(w.pushes) >= 0.6 * (took + 1.0) / 0.1


def test_a_client_pipelining_stacks_requests_does_not_stall_the_others(
        runtime_dir: Path, figure: Callable[[str, object], None]) -> None:
    """``stacks`` reads the GUI thread's stack, which waits for that thread to run a signal
    handler: up to 100 ms in an application whose event loop idles in C++. Pipelined
    requests must not cost every other client one of those waits each (64 of them stalled
    every other client for 6 s before the server answered them off its loop)."""
    with live_app(runtime_dir, SERVED_APP, "--heartbeat-ms", "0") as app:
        path = app.socket
        assert path is not None
        stop = threading.Event()
        latencies: list[float] = []
        prober = threading.Thread(target=_probe, args=(path, stop, latencies, []), daemon=True)
        prober.start()
        settle(lambda: len(latencies) >= 3, 5)
        asker = RawConn(path, timeout=30)
        asker.send(b"".join(b'{"id": %d, "method": "stacks"}\n' % i for i in range(1, 21)))
        started = time.monotonic()
        ids = [msgspec.json.decode(asker.line())["id"] for _ in range(20)]
        took = time.monotonic() - started
        stop.set()
        prober.join(10)
        asker.close()
    figure("stacks_20_seconds", took)
    figure("others_worst_ms", max(latencies) * 1000)
    assert ids == list(range(1, 21))  # answered, in order
    assert max(latencies) < 0.5, sorted(latencies)[-5:]


# -- stale sockets ------------------------------------------------------------------------------


class _NoModel:
    app = "intruder"


def test_a_killed_apps_socket_is_cleaned_at_the_next_start_and_a_live_one_never(
        runtime_dir: Path, figure: Callable[[str, object], None]) -> None:
    """SIGKILL leaves the socket and sidecar behind; the next application's start removes
    them (tests/server fakes the dead process; here it is a real one). A second server
    aimed at a live application's path, from another process, refuses and removes nothing
    (tests/server checks the same process only)."""
    first = LiveApp(runtime_dir, SERVED_APP)
    assert first.socket is not None
    stale_sock, stale_sidecar = first.socket, first.socket.with_suffix(".json")
    first.signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    first.stop()
    assert stale_sock.exists()  # nothing could remove them
    assert stale_sidecar.exists()
    assert first.pid not in {a.pid for a in discovery.list_apps(runtime_dir)}  # never listed

    launched = time.monotonic()
    second = LiveApp(runtime_dir, SERVED_APP, ready=False)
    try:
        gone = settle(lambda: not stale_sock.exists() and not stale_sidecar.exists(), 15, 0.005)
        gone_after = time.monotonic() - launched
        second.expect("READY", 30)
        start_s = float(second.value("SERVER_START_S"))
        assert gone
        assert start_s < 1.0  # the server's start, stale-file removal included
        live_sock = runtime_dir / "resinspect" / f"{second.pid}.sock"
        inode = os.lstat(live_sock).st_ino
        sidecar = live_sock.with_suffix(".json").read_bytes()

        intruder = InspectorServer(_NoModel(), app="intruder")  # type: ignore[arg-type]
        intruder._pid = second.pid  # white-box: aim at the live app's path from here
        with pytest.raises(ServerAlreadyRunning, match="already listens"):
            intruder.start()
        intruder.close()
        assert os.lstat(live_sock).st_ino == inode
        assert live_sock.with_suffix(".json").read_bytes() == sidecar
        with InspectorClient(live_sock) as client:
            assert client.hello_info["pid"] == second.pid
    finally:
        assert second.stop() == 0
    assert not live_sock.exists()
    figure("server_start_s", start_s)
    figure("launch_to_stale_removed_s", gone_after)


# -- vanishing clients -----------------------------------------------------------------------------


def _half_request(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        s.sendall(b'{"id": 1, "meth')


def _request_then_reset(path: Path) -> None:
    # Closing with the reply unread: the server's next write gets EPIPE or ECONNRESET.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        s.sendall(b'{"id": 1, "method": "snapshot"}\n{"id": 2, "method": "snapshot"}\n')


def _close_mid_read(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(b'{"id": 1, "method": "snapshot"}\n')
        s.recv(1000)


def _subscribe_and_vanish(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(b'{"id": 1, "method": "subscribe", "params": {"interval": 0.05}}\n')
        s.recv(100)
        s.shutdown(socket.SHUT_RDWR)


VANISHING = (_half_request, _request_then_reset, _close_mid_read, _subscribe_and_vanish)


def test_200_clients_that_vanish_mid_request_or_mid_reply(
        runtime_dir: Path, figure: Callable[[str, object], None]) -> None:
    with live_app(runtime_dir, SERVED_APP, "--components", "2000") as app:
        path = app.socket
        assert path is not None
        fds_before = open_fds(app.pid)
        worst = 0.0
        for i in range(200):
            VANISHING[i % len(VANISHING)](path)
            started = time.monotonic()
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(str(path))
                s.sendall(HELLO)
                assert s.recv(1 << 16).startswith(b'{"id":1,"result":'), i
            worst = max(worst, time.monotonic() - started)
        back = settle(lambda: open_fds(app.pid) == fds_before, 5)
        fds_after = open_fds(app.pid)
        assert app.stop() == 0
    figure("clients", 200)
    figure("next_client_worst_ms", worst * 1000)
    figure("fds_before_after", f"{fds_before}/{fds_after}")
    assert back, (fds_before, fds_after)
    assert worst < 1.0
    assert "Traceback" not in app.errors()
    assert "error serving" not in app.errors()


# -- oversized frames and deep nesting -----------------------------------------------------------


def test_one_byte_over_the_line_limit_is_refused_and_the_limit_itself_is_not(
        server: InspectorServer) -> None:
    """The boundary, byte-exact: tests/server sends 'somewhat more than 1 MiB'."""
    at_limit = RawConn(server.path)
    at_limit.send(b"x" * MAX_LINE)  # exactly the limit, no newline yet: still a line
    at_limit.sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        at_limit.sock.recv(1)
    at_limit.sock.settimeout(5)
    at_limit.send(b"\n")
    assert at_limit.msg()["error"]["code"] == PARSE_ERROR  # parsed, not refused
    at_limit.request(2, "hello")
    assert at_limit.msg()["id"] == 2
    at_limit.close()

    over = RawConn(server.path)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        over.send(b"x" * (MAX_LINE + 1))
    reply = over.msg()
    assert reply["id"] is None
    assert reply["error"]["code"] == LINE_TOO_LONG
    assert over.at_eof()
    over.close()


def _stream(path: Path, total: int, line: int | None, result: dict[str, int]) -> None:
    """Send up to ``total`` bytes: one endless line, or lines of ``line`` bytes."""
    chunk = b"x" * (1 << 16)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(path))
    sent = 0
    try:
        while sent < total:
            if line is None:
                sock.sendall(chunk)
                sent += len(chunk)
            else:
                sock.sendall(b"x" * (line - 1) + b"\n")
                sent += line
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        result["sent"] = sent
        result["fd"] = sock.fileno()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        replies = b""
        with contextlib.suppress(OSError):
            while data := sock.recv(1 << 16):
                replies += data
        result["replies"] = replies.count(b"\n")
        result["too_long"] = replies.count(b"%d" % LINE_TOO_LONG)
        sock.close()


@pytest.mark.parametrize("line", [None, 512 * 1024], ids=["one-endless-line", "512KiB-lines"])
def test_a_100_mib_stream_costs_the_server_under_twice_the_line_limit(
        server: InspectorServer, line: int | None, figure: Callable[[str, object], None]) -> None:
    total = 100 << 20
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result: dict[str, int] = {}
        started = time.monotonic()
        _stream(server.path, total, line, result)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    figure("sent_mib", round(result["sent"] / (1 << 20), 2))
    figure("peak_growth_kib", peak // 1024)
    figure("seconds", time.monotonic() - started)
    assert peak < 2 * MAX_LINE, f"{peak} bytes"
    if line is None:  # refused after one line's worth, with one error
        assert result["sent"] < 8 * MAX_LINE
        assert (result["replies"], result["too_long"]) == (1, 1)
    else:  # every line read, parsed and answered (a parse error each), none refused
        assert result["sent"] >= total
        assert result["replies"] == total // line
        assert result["too_long"] == 0
    with InspectorClient(server.path) as client:  # and the server is still there
        assert client.hello_info["pid"] == os.getpid()


DEEP = {
    "open arrays": b"[" * 100_000,
    "closed arrays (valid JSON)": b"[" * 100_000 + b"]" * 100_000,
    "open objects": b'{"a":' * 100_000,
    "deep params of hello": b'{"id": 1, "method": "hello", "params": {"protocol": '
                            + b"[" * 50_000 + b"]" * 50_000 + b"}}",
    "deep params of resources": b'{"id": 2, "method": "resources", "params": '
                                b'{"component_id": ' + b'{"a":' * 50_000 + b"1"
                                + b"}" * 50_000 + b"}}",
    "deep id": b'{"id": ' + b"[" * 50_000 + b"]" * 50_000 + b', "method": "hello"}',
}


def test_deep_nesting_gets_a_clear_error_and_no_recursion_error_escapes(
        raw: RawConn, server: InspectorServer, caplog: pytest.LogCaptureFixture) -> None:
    """tests/server covers ``[`` x 100,000 and ``{"a":`` x 50,000; here also valid deep JSON
    and deep values inside otherwise well-formed requests, where a validator (not the
    parser) meets them."""
    caplog.set_level("ERROR", logger="inspector.server")
    for name, line in DEEP.items():
        raw.send(line + b"\n")
        reply = raw.msg()
        assert set(reply) == {"id", "error"}, name
        assert reply["error"]["code"] in (PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS), name
        assert "RecursionError" not in reply["error"]["message"], name
        assert len(reply["error"]["message"]) < 500, name  # clear, not a dump of the input
        raw.request(99, "hello")
        assert raw.msg()["id"] == 99, name
    assert server.running
    assert server.stats()["errors"] == len(DEEP)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # nothing escaped


# -- malformed lines -------------------------------------------------------------------------------


def test_every_malformed_line_split_at_random_gets_one_error_and_no_nan_ever(
        raw: RawConn, model: MetricsModel, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/server/test_protocol.py sends each bad line whole; here all of them go down one
    connection cut at random byte boundaries, interleaved with valid requests, and every
    byte that comes back is checked for NaN and Infinity. The model is also made to produce
    a NaN, which must leave as null."""
    monkeypatch.setattr(model.probe, "read", lambda: (float("nan"), False, []))
    rng = random.Random(7)
    lines: list[bytes] = []
    expected: list[tuple[str, int | None, object]] = []
    for n, (line, code, rid) in enumerate(BAD_LINES):
        if len(line) > 10_000:
            continue  # the deep ones have their own test
        lines.append(line + b"\n")
        expected.append(("error", code, rid))
        lines.append(b'{"id": "ok-%d", "method": "snapshot"}\n' % n)
        expected.append(("result", None, f"ok-{n}"))
    stream = b"".join(lines)
    cuts = sorted(rng.sample(range(1, len(stream)), 200))
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        raw.send(stream[a:b])
        time.sleep(0.0005 if rng.random() < 0.2 else 0)
    received = b""
    for kind, want, rid in expected:
        got = raw.line()
        received += got
        reply = msgspec.json.decode(got)
        assert reply["id"] == rid
        assert kind in reply
        if want is not None:
            assert reply["error"]["code"] == want
    for token in (b"NaN", b"Infinity"):
        assert token not in received
    assert b'"event_loop_lag_ms":null' in received  # the NaN left as null


# -- permissions -----------------------------------------------------------------------------------


def _tree(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), os.lstat(p).st_mode) for p in root.rglob("*"))


UNSAFE = ["mode-0755", "symlink", "other-owner"]


@pytest.mark.parametrize("setup", UNSAFE)
def test_an_unsafe_socket_directory_stops_the_server_and_nothing_is_touched(
        setup: str, model: MetricsModel, runtime_dir: Path) -> None:
    """tests/server/test_discovery.py checks the directory test itself; here the server's
    start and the real ``resinspect ls`` refuse with one clear line, and not a file is
    created, removed or changed (a socket in a symlink's target would be the attack)."""
    directory = runtime_dir / "resinspect"
    reason = {"mode-0755": "open to group/other", "symlink": "symlink",
              "other-owner": "owned by uid 65534"}[setup]
    if setup == "mode-0755":
        directory.mkdir()
        directory.chmod(0o755)
    elif setup == "symlink":
        target = runtime_dir / "elsewhere"
        target.mkdir(mode=0o700)
        directory.symlink_to(target)
    else:
        if os.geteuid() != 0:
            pytest.skip("needs root to give a directory away")
        directory.mkdir(mode=0o700)
        os.chown(directory, 65534, 65534)
    before = _tree(runtime_dir)
    server = InspectorServer(model)
    with pytest.raises(UnsafeRuntimeDirectory) as info:
        server.start()
    server.close()
    message = str(info.value)
    assert str(directory) in message
    assert reason in message
    assert "\n" not in message
    assert _tree(runtime_dir) == before
    done = resinspect(runtime_dir, "ls")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert reason in done.stderr
    assert _tree(runtime_dir) == before


# -- foreign uid -----------------------------------------------------------------------------------


def _connect_as_nobody(path: Path) -> bytes:
    """Fork; the child becomes uid 65534 and reports what connecting to ``path`` gave it."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: system calls only, then _exit
        result = b"child-failed"
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(str(path))
            except PermissionError:
                result = b"denied"
            else:
                with contextlib.suppress(OSError):  # already closed: fine
                    s.sendall(HELLO)
                try:
                    result = b"got:" + s.recv(65536)
                except ConnectionResetError:
                    result = b"got:"
        finally:
            os.write(write_end, result)
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as f:
        return f.read()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_another_user_is_stopped_by_the_directory_and_then_by_the_peer_check(
        runtime_dir: Path) -> None:
    """tests/server forks a nobody against an in-process server with the modes opened; here
    the target is a real application, and both layers are shown: as deployed, the 0700
    directory stops the stranger at connect(); with every mode opened, the peer-credential
    check closes the connection before one byte is sent."""
    with live_app(runtime_dir, SERVED_APP) as app:
        assert app.socket is not None
        assert _connect_as_nobody(app.socket) == b"denied"
        runtime_dir.chmod(0o711)
        app.socket.parent.chmod(0o711)
        app.socket.chmod(0o666)
        assert _connect_as_nobody(app.socket) == b"got:"
        with InspectorClient(app.socket) as client:  # the owner still gets in
            assert client.hello_info["pid"] == app.pid
        assert settle(lambda: "refused a connection from uid 65534" in app.errors(), 5)


# -- no network surface ------------------------------------------------------------------------


def connect_retrying(path: Path, timeout: float = 5.0) -> socket.socket:
    """Connect, waiting while the listen backlog is full (AF_UNIX says EAGAIN, not wait)."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(str(path))
        except BlockingIOError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.002)
            continue
        return s


def test_no_network_surface_and_connections_past_the_cap_are_refused(
        runtime_dir: Path, figure: Callable[[str, object], None]) -> None:
    with live_app(runtime_dir, SERVED_APP) as app:  # attach()'s defaults: 64 clients
        assert app.socket is not None
        proc = psutil.Process(app.pid)
        assert proc.net_connections(kind="inet") == []  # no TCP or UDP socket at all
        named = {c.laddr for c in proc.net_connections(kind="unix") if c.laddr}
        assert named == {str(app.socket)}  # one named socket, no abstract-namespace one
        assert stat.S_IMODE(os.lstat(app.socket).st_mode) == 0o600
        fds_before = open_fds(app.pid)
        conns = [connect_retrying(app.socket) for _ in range(300)]
        served = refused = 0
        for s in conns:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                s.sendall(HELLO)  # (a refused one may be closed already)
            try:
                data = s.recv(1 << 16)
            except ConnectionResetError:
                data = b""
            reply = msgspec.json.decode(data.splitlines()[0]) if data else {}
            if "result" in reply:
                served += 1
            elif reply.get("error", {}).get("code") == SERVER_BUSY:
                # Past the cap: told why in one line (refused, or closed after saying
                # nothing while a newcomer needed its slot), never a bare reset.
                refused += 1
        for s in conns:
            s.close()
        back = settle(lambda: open_fds(app.pid) == fds_before, 5)
        with InspectorClient(app.socket) as client:  # freed slots are usable again
            assert client.hello_info["pid"] == app.pid
        assert app.stop() == 0
    figure("served", served)
    figure("refused", refused)
    assert served + refused == 300
    assert 1 <= served <= 64
    # Logged at a bounded rate, not one line per refusal (2,001 lines in 0.05 s before).
    assert 0 < app.errors().count("(max_clients)") <= 2 * LOG_BURST
    assert back
