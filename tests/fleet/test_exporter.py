"""``resinspect exporter``: every live application's metrics on one loopback /metrics.

Only 127.0.0.1 is ever bound here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from inspector.errors import ConnectionFailed, ConnectionLost, ProtocolError, RequestTimedOut
from inspector.fleet.exporter import (
    ExporterServer,
    FleetCollector,
    error_reason,
)
from inspector.metrics.snapshot import Snapshot
from inspector.server.discovery import AppInfo
from tests.fleet.conftest import (
    GROWING_APP,
    App,
    make_snapshot,
    spawn_resinspect,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus exposition, by name and sorted labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


# -- the collector, with fake applications -------------------------------------------------------


def _app(pid: int, name: str) -> AppInfo:
    return AppInfo(pid=pid, app=name, socket=Path(f"/nonexistent/{pid}.sock"))


def test_one_bad_app_never_fails_the_scrape() -> None:
    apps = [_app(1, "good"), _app(2, "refused"), _app(3, "hung"), _app(4, "garbled"),
            _app(5, "also-good")]
    release = threading.Event()

    def fetch(app: AppInfo, timeout: float) -> Snapshot:
        if app.app == "refused":
            raise ConnectionFailed("cannot connect: nobody listens there")
        if app.app == "hung":
            release.wait(10)
            raise RequestTimedOut("no answer within 0.2 s")
        if app.app == "garbled":
            raise ProtocolError("sent something that is not the protocol")
        return make_snapshot(pid=app.pid, app=app.app, live_resources=app.pid * 10)

    collector = FleetCollector(timeout=0.2, list_apps=lambda: apps, fetch=fetch)
    try:
        started = time.monotonic()
        text = collector.render().decode()
        assert time.monotonic() - started < 2.0  # the hung app costs its deadline, no more
        found = samples(text)
        assert value(found, "resinspect_live_resources", app="good", pid="1") == 10
        assert value(found, "resinspect_live_resources", app="also-good", pid="5") == 50
        assert ("resinspect_live_resources", (("app", "hung"), ("pid", "3"))) not in found
        for name, pid, up in (("good", "1", 1), ("refused", "2", 0), ("hung", "3", 0),
                              ("garbled", "4", 0), ("also-good", "5", 1)):
            assert value(found, "resinspect_exporter_app_up", app=name, pid=pid) == up
        errors = {r: value(found, "resinspect_exporter_scrape_errors_total", reason=r)
                  for r in ("connection", "timeout", "protocol", "access")}
        assert errors == {"connection": 1, "timeout": 1, "protocol": 1, "access": 0}
        assert value(found, "resinspect_exporter_apps") == 5
        release.set()
        collector.render()  # counts add up over scrapes
        assert collector.errors_total["connection"] == 2
    finally:
        release.set()
        collector.close()


def test_discovery_failure_is_counted_not_raised() -> None:
    from inspector.errors import UnsafeRuntimeDirectory

    def refuse() -> list[AppInfo]:
        raise UnsafeRuntimeDirectory("refusing runtime directory /x: it is a symlink")

    collector = FleetCollector(list_apps=refuse)
    try:
        found = samples(collector.render().decode())
    finally:
        collector.close()
    assert value(found, "resinspect_exporter_scrape_errors_total", reason="discovery") == 1
    assert value(found, "resinspect_exporter_apps") == 0


@pytest.mark.parametrize(("error", "reason"), [
    (ConnectionFailed("cannot connect"), "connection"),
    (ConnectionLost("x.sock closed the connection without a reply"), "connection"),
    (RequestTimedOut("no answer from x.sock within 1 s"), "timeout"),
    (RequestTimedOut("x.sock did not take a request within 1 s"), "timeout"),
    # The reason comes from the type, never from the words of the message.
    (ConnectionLost("x.sock went away within a reply"), "connection"),
    (TimeoutError(), "timeout"),
    (ProtocolError("garbage"), "protocol"),
    (ValueError("bug"), "other"),
])
def test_error_reasons(error: BaseException, reason: str) -> None:
    assert error_reason(error) == reason


def test_server_answers_metrics_and_404() -> None:
    collector = FleetCollector(list_apps=lambda: [_app(7, "one")],
                               fetch=lambda app, timeout: make_snapshot(pid=7, app="one"))
    server = ExporterServer(collector, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url, timeout=10) as reply:
            assert reply.headers["Content-Type"].startswith("text/plain; version=")
            found = samples(reply.read().decode())
        assert value(found, "resinspect_live_resources", app="one", pid="7") == 5
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(server.url.replace("/metrics", "/nope"), timeout=10)
        assert info.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


# -- real applications ---------------------------------------------------------------------------


@pytest.fixture
def exporter(runtime_dir: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    """``exporter(*args)``: a real ``resinspect exporter`` on 127.0.0.1 and its URL."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        proc = spawn_resinspect(runtime_dir, "exporter", "--listen", "127.0.0.1:0", *args)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving http://127.0.0.1:"), (line, proc.poll())
        return proc, line.split()[1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def scrape(url: str) -> tuple[Samples, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=20) as reply:
        text = reply.read().decode()
    return samples(text), time.monotonic() - started


def test_every_running_app_is_served_with_its_numbers(
        start_app: Callable[..., App],
        exporter: Callable[..., tuple[subprocess.Popen[str], str]]) -> None:
    tracked = start_app()
    growing = start_app(script=GROWING_APP)
    growing.command("open 2")
    proc, url = exporter()
    found, _ = scrape(url)
    assert value(found, "resinspect_live_resources", app="tracked-app",
                 pid=str(tracked.pid)) == 5
    assert value(found, "resinspect_live_resources", app="growing-app",
                 pid=str(growing.pid)) == 4
    assert value(found, "resinspect_active_workers", app="growing-app",
                 pid=str(growing.pid)) == 2
    assert value(found, "resinspect_component_bytes", app="tracked-app",
                 pid=str(tracked.pid), component="CacheOwner") == 3000
    assert value(found, "resinspect_type_bytes", app="growing-app", pid=str(growing.pid),
                 type="thumbnail") == 8 * 1024 * 1024
    assert value(found, "resinspect_exporter_apps") == 2
    assert sum(v for (name, _), v in found.items()
               if name == "resinspect_exporter_scrape_errors_total") == 0

    growing.command("open 1")  # each scrape reads the applications afresh
    found, _ = scrape(url)
    assert value(found, "resinspect_live_resources", app="growing-app",
                 pid=str(growing.pid)) == 6

    proc.send_signal(signal.SIGTERM)  # how a service manager stops it: a clean exit
    _, stderr = proc.communicate(timeout=10)
    assert (proc.returncode, stderr) == (0, "")


def test_a_hung_or_dead_app_is_skipped_and_counted(
        start_app: Callable[..., App],
        exporter: Callable[..., tuple[subprocess.Popen[str], str]]) -> None:
    alive = start_app()
    hung = start_app(script=GROWING_APP)
    dead = start_app("--name", "dead-app", script=GROWING_APP)
    _, url = exporter("--timeout", "0.5")
    dead.proc.kill()  # a crash: its socket and sidecar stay behind
    dead.proc.wait(10)
    os.kill(hung.pid, signal.SIGSTOP)  # alive, listed, but it answers nothing
    try:
        found, took = scrape(url)
        again, _ = scrape(url)
    finally:
        os.kill(hung.pid, signal.SIGCONT)
    assert took < 5
    assert value(found, "resinspect_live_resources", app="tracked-app",
                 pid=str(alive.pid)) == 5
    assert not any(dict(labels).get("pid") in (str(hung.pid), str(dead.pid))
                   for (name, labels) in found if name == "resinspect_live_resources")
    assert value(found, "resinspect_exporter_app_up", app="growing-app",
                 pid=str(hung.pid)) == 0
    assert value(found, "resinspect_exporter_app_up", app="tracked-app",
                 pid=str(alive.pid)) == 1
    assert value(found, "resinspect_exporter_scrape_errors_total", reason="timeout") == 1
    assert value(again, "resinspect_exporter_scrape_errors_total", reason="timeout") == 2
    # A dead process is never listed (discovery checks the pid), so it is no error at all.
    assert value(found, "resinspect_exporter_apps") == 2
