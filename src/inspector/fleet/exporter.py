"""One Prometheus endpoint for every live application on this machine (this user's).

Applications never open a TCP port: they serve snapshots on their private AF_UNIX sockets.
The exporter is a separate process that, at each scrape of ``/metrics``, lists the live
applications (:func:`inspector.server.discovery.list_apps`), asks each for a snapshot over
its socket - all at once, each with a short timeout - and answers with the snapshots in
Prometheus text format (labels ``app``, ``pid``, ``type``, ``component``; ``component`` is the
class, the id without ``#n``, so a long run has a bounded number of series). An application
that is dead, hung or otherwise unreadable is left out of that scrape and counted in
``resinspect_exporter_scrape_errors_total``; it never fails the scrape.

The exporter's own series:

- ``resinspect_exporter_scrape_errors_total{reason}`` - applications skipped since start, by
  reason (``timeout``, ``connection``, ``protocol``, ``access``, ``discovery``, ``other``);
- ``resinspect_exporter_app_up{app, pid}`` - 1 when this scrape read the application, else 0;
- ``resinspect_exporter_apps`` - applications listed in this scrape;
- ``resinspect_exporter_scrape_duration_seconds`` - how long this scrape took.

It listens on loopback unless told otherwise (:func:`is_loopback` lets the CLI warn).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import (
    AccessDenied,
    BadInput,
    ConnectionFailed,
    ConnectionLost,
    ProtocolError,
    RemoteError,
    ResinspectError,
)
from ..metrics.snapshot import Snapshot
from ..server.discovery import AppInfo
from ..server.discovery import list_apps as discover_apps

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

#: Seconds one application may take to answer before it is skipped.
DEFAULT_TIMEOUT_S = 1.0
#: Applications read at the same time.
MAX_PARALLEL = 8
#: Reasons of ``resinspect_exporter_scrape_errors_total``, all exported from the start (at
#: zero) so that ``rate()`` and ``increase()`` see the first error.
ERROR_REASONS = ("timeout", "connection", "protocol", "access", "discovery", "other")

Fetch = Callable[[AppInfo, float], Snapshot]


@dataclass(frozen=True)
class ScrapeError:
    """An application left out of a scrape, and why."""

    app: AppInfo
    reason: str
    message: str


@dataclass
class Scrape:
    """What one scrape read: the snapshots, the applications it could not read, its time."""

    apps: list[AppInfo] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    errors: list[ScrapeError] = field(default_factory=list)
    discovery_error: str = ""
    duration_s: float = 0.0


def fetch_snapshot(app: AppInfo, timeout: float) -> Snapshot:
    """One snapshot of ``app`` over its socket: connect, hello, snapshot, close."""
    from ..server.client import InspectorClient

    with InspectorClient(app.socket, timeout=timeout) as client:
        return client.snapshot()


def error_reason(err: BaseException) -> str:
    """The ``reason`` label for a failure to read an application."""
    if isinstance(err, TimeoutError):
        return "timeout"
    if isinstance(err, ConnectionLost) and "within" in str(err):
        return "timeout"  # the client reports an unanswered request as a lost connection
    if isinstance(err, AccessDenied):
        return "access"
    if isinstance(err, ConnectionFailed | ConnectionLost | OSError):
        return "connection"
    if isinstance(err, ProtocolError | RemoteError):
        return "protocol"
    return "other"


class FleetCollector:
    """Reads every live application at each scrape and renders Prometheus text.

    ``list_apps`` and ``fetch`` are the two seams (tests pass fakes). Thread-safe: the HTTP
    server calls :meth:`render` from a thread per request.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        list_apps: Callable[[], Sequence[AppInfo]] = discover_apps,
        fetch: Fetch = fetch_snapshot,
        max_parallel: int = MAX_PARALLEL,
    ) -> None:
        self.timeout = timeout
        self._list_apps = list_apps
        self._fetch = fetch
        # Threads that outlive a slow application's deadline finish on their own socket
        # timeout; they are never joined on a scrape's path.
        self._pool = ThreadPoolExecutor(max_workers=max_parallel,
                                        thread_name_prefix="resinspect-exporter")
        self._lock = threading.Lock()
        self._errors_total = dict.fromkeys(ERROR_REASONS, 0)

    @property
    def errors_total(self) -> dict[str, int]:
        """Applications skipped since start, by reason."""
        with self._lock:
            return dict(self._errors_total)

    def scrape(self) -> Scrape:
        """Read every live application now; never raises for one that cannot be read."""
        started = time.monotonic()
        result = Scrape()
        try:
            result.apps = list(self._list_apps())
        except ResinspectError as err:  # an unsafe runtime directory, say
            result.discovery_error = str(err)
            self._count("discovery")
        futures: list[tuple[AppInfo, Future[Snapshot]]] = [
            (app, self._pool.submit(self._fetch, app, self.timeout)) for app in result.apps]
        # A connection costs a connect, a hello and a snapshot, each bounded by the
        # timeout; this deadline bounds the whole scrape whatever one application does.
        wait([f for _, f in futures], timeout=2 * self.timeout + 0.5)
        for app, future in futures:
            if not future.done():
                future.cancel()
                result.errors.append(ScrapeError(app, "timeout",
                                                 f"no snapshot within {self.timeout:g} s"))
                continue
            failure = future.exception()
            if failure is None:
                result.snapshots.append(future.result())
            else:
                result.errors.append(ScrapeError(app, error_reason(failure), str(failure)))
        for error in result.errors:
            self._count(error.reason)
        result.duration_s = time.monotonic() - started
        return result

    def render(self) -> bytes:
        """Scrape and return the Prometheus text of every application read, plus our own."""
        from prometheus_client import CollectorRegistry, generate_latest

        from ..metrics.exporters import snapshots_to_prometheus

        scrape = self.scrape()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_ExporterCollector(scrape, self.errors_total))
        # Two expositions end to end are one: their metric families never share a name.
        return snapshots_to_prometheus(scrape.snapshots).encode() + generate_latest(registry)

    def _count(self, reason: str) -> None:
        with self._lock:
            self._errors_total[reason] = self._errors_total.get(reason, 0) + 1

    def close(self) -> None:
        """Stop the worker threads (without waiting for a hung application)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class _ExporterCollector:
    """The exporter's own series for one scrape."""

    def __init__(self, scrape: Scrape, errors_total: dict[str, int]) -> None:
        self._scrape = scrape
        self._errors_total = errors_total

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        errors = CounterMetricFamily(
            "resinspect_exporter_scrape_errors",
            "Applications the exporter could not read and skipped, since it started",
            labels=["reason"])
        for reason, count in sorted(self._errors_total.items()):
            errors.add_metric([reason], float(count))
        yield errors
        up = GaugeMetricFamily("resinspect_exporter_app_up",
                               "1 when this scrape read the application, 0 when it was skipped",
                               labels=["app", "pid"])
        failed = {id(e.app) for e in self._scrape.errors}
        for app in self._scrape.apps:
            up.add_metric([app.app, str(app.pid)], 0.0 if id(app) in failed else 1.0)
        yield up
        yield GaugeMetricFamily("resinspect_exporter_apps",
                                "Live applications listed in this scrape",
                                value=float(len(self._scrape.apps)))
        yield GaugeMetricFamily("resinspect_exporter_scrape_duration_seconds",
                                "Seconds this scrape took",
                                value=round(self._scrape.duration_s, 6))


# -- listening -----------------------------------------------------------------------------


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

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            from prometheus_client import CONTENT_TYPE_LATEST

            self._send(200, self.server.collector.render(), CONTENT_TYPE_LATEST)
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
    """``ThreadingHTTPServer`` serving a :class:`FleetCollector` at ``/metrics``."""

    daemon_threads = True

    def __init__(self, collector: FleetCollector, host: str, port: int) -> None:
        self.collector = collector
        if ":" in host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((host, port), _Handler)
        except OSError as err:
            raise BadInput(f"cannot listen on {format_address(host, port)}: "
                           f"{err.strerror or err}") from None

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
