"""The exporter's HTTP side: the listen address, loopback, a port in use (the CLI as a user
meets it); serving a collector is in test_exporter.py."""

from __future__ import annotations

import socket

import pytest

from inspector.fleet.endpoint import is_loopback, parse_listen
from inspector.fleet.exporter import FleetCollector
from tests.fleet.conftest import Run, assert_one_line_error


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)),
    ("127.0.0.1:0", ("127.0.0.1", 0)),
    ("localhost:80", ("localhost", 80)),
    ("[::1]:9464", ("::1", 9464)),
    ("0.0.0.0:65535", ("0.0.0.0", 65535)),
])
def test_listen_addresses_parse(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["9464", ":9464", "127.0.0.1", "127.0.0.1:x",
                                  "127.0.0.1:65536", "::1:9464", "127.0.0.1:-1"])
def test_bad_listen_addresses_are_bad_input(run_cli: Run, text: str) -> None:
    assert_one_line_error(run_cli("exporter", "--listen", text), contains="bad --listen")


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False),
])
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_beyond_loopback_warns_in_one_line(run_cli: Run, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    class NoServer:  # nothing is bound: the test only looks at what is said
        url = "http://0.0.0.0:9464/metrics"

        def __init__(self, collector: FleetCollector, host: str, port: int) -> None:
            collector.close()

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            pass

    monkeypatch.setattr("inspector.fleet.exporter.ExporterServer", NoServer)
    result = run_cli("exporter", "--listen", "0.0.0.0:9464")
    assert result.exit_code == 0
    assert result.stdout == "serving http://0.0.0.0:9464/metrics\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("resinspect: warning: listening on 0.0.0.0:9464, beyond loopback")
    quiet = run_cli("exporter", "--listen", "127.0.0.1:9464")
    assert (quiet.exit_code, quiet.stderr) == (0, "")


def test_a_port_in_use_is_one_line(run_cli: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(run_cli("exporter", "--listen", f"127.0.0.1:{port}"),
                              contains=f"cannot listen on 127.0.0.1:{port}")
