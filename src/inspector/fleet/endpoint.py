"""The exporter's HTTP side: ``/metrics`` served from a :class:`FleetCollector`, bounded.

A connection that does not send its request within :data:`REQUEST_TIMEOUT_S` is closed, at
most :data:`MAX_CONNECTIONS` are served at once (the next wait briefly, then get a ``503``),
and the listen backlog is :data:`BACKLOG`. It listens on loopback unless told otherwise
(:func:`is_loopback` lets the CLI warn). What a scrape reads is :mod:`.exporter`'s.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import BadInput

if TYPE_CHECKING:
    from .exporter import FleetCollector

log = logging.getLogger("inspector.fleet.exporter")

#: Seconds an HTTP client may take to send its request (and to take the reply).
REQUEST_TIMEOUT_S = 10.0
#: HTTP connections served at once; a further one waits up to :data:`SLOT_WAIT_S` for a
#: slot (while the kernel queues the rest), then gets ``503 Service Unavailable``.
MAX_CONNECTIONS = 64
SLOT_WAIT_S = 2.0
#: Connections the kernel queues before the server accepts them (``listen`` backlog).
BACKLOG = 256


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) → ``(host, port)``; ``BadInput`` if wrong.

    Port 0 asks the system for a free port.
    """
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not host:
        raise BadInput(f"bad --listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise BadInput(f"bad --listen {text!r}: write an IPv6 address in brackets, "
                       "e.g. [::1]:9464")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise BadInput(f"bad --listen {text!r}: the port must be a number from 0 to 65535")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``localhost`` counts; a wildcard does not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class _Handler(BaseHTTPRequestHandler):
    server: ExporterServer
    #: Socket timeout of each connection (``StreamRequestHandler`` applies it): a client that
    #: sends half a request is closed after this, not served by a thread forever.
    timeout = REQUEST_TIMEOUT_S

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            from prometheus_client import CONTENT_TYPE_LATEST

            try:
                body = self.server.collector.render()
            # one line in the log and a 500, never a traceback
            except Exception as exc:  # noqa: BLE001
                log.warning("resinspect exporter: scrape failed: %r", exc)
                self._send(500, f"scrape failed: {type(exc).__name__}\n".encode(),
                           "text/plain; charset=utf-8")
                return
            self._send(200, body, CONTENT_TYPE_LATEST)
        elif path == "/":
            self._send(200, b"resinspect exporter: metrics at /metrics\n",
                       "text/plain; charset=utf-8")
        else:
            self._send(404, b"not found: metrics are at /metrics\n", "text/plain; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Every scrape would print a line; the metrics already say what happened.
        pass


class ExporterServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` serving a :class:`FleetCollector` at ``/metrics``, bounded:
    at most :data:`MAX_CONNECTIONS` connections at once, each with a timeout."""

    daemon_threads = True
    request_queue_size = BACKLOG

    def __init__(self, collector: FleetCollector, host: str, port: int,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self.collector = collector
        self._slots = threading.BoundedSemaphore(max_connections)
        self.refused = 0
        if ":" in host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((host, port), _Handler)
        except OSError as err:
            raise BadInput(f"cannot listen on {format_address(host, port)}: "
                           f"{err.strerror or err}") from None

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve on a thread of its own once a slot is free; ``503`` if none frees in time."""
        if not self._slots.acquire(timeout=SLOT_WAIT_S):
            self.refused += 1
            with contextlib.suppress(OSError):
                request.setblocking(False)
                request.send(b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n"
                             b"Retry-After: 1\r\nConnection: close\r\n\r\n")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line in the log, not ``socketserver``'s traceback on stderr."""
        import sys

        exc = sys.exc_info()[1]
        log.debug("resinspect exporter: connection from %s failed: %r", client_address, exc)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS lookup of the host, which can hang."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def url(self) -> str:
        """``http://HOST:PORT/metrics`` with the port actually bound."""
        host, port = self.server_address[0], self.server_address[1]
        return f"http://{format_address(str(host), int(port))}/metrics"

    def server_close(self) -> None:
        """Close the socket and the collector's threads."""
        super().server_close()
        self.collector.close()


def format_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
