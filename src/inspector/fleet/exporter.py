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

One bad application costs only its own series: an application still being read from an
earlier scrape (hung) is reported down at once instead of taking a worker again, so hung
sockets beside a healthy application never make the healthy one late; a snapshot that cannot
be rendered leaves out that application alone. The HTTP side is bounded too: a connection
that does not send its request within :data:`REQUEST_TIMEOUT_S` is closed, at most
:data:`MAX_CONNECTIONS` are served at once (the next wait briefly, then get a ``503``), the listen
backlog is :data:`BACKLOG`, and scrapes that arrive while one runs share its result.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import (
    AccessDenied,
    BadInput,
    ConnectionFailed,
    ConnectionLost,
    ProtocolError,
    RemoteError,
    RequestTimedOut,
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
MAX_PARALLEL = 32
#: Seconds an HTTP client may take to send its request (and to take the reply).
REQUEST_TIMEOUT_S = 10.0
#: HTTP connections served at once; a further one waits up to :data:`SLOT_WAIT_S` for a
#: slot (while the kernel queues the rest), then gets ``503 Service Unavailable``.
MAX_CONNECTIONS = 64
SLOT_WAIT_S = 2.0
#: Connections the kernel queues before the server accepts them (``listen`` backlog).
BACKLOG = 256

log = logging.getLogger("inspector.fleet.exporter")
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
    if isinstance(err, TimeoutError | RequestTimedOut):
        return "timeout"
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
        # Sockets still being read by an earlier scrape: not asked again until that ends.
        self._in_flight: set[Path] = set()
        # The scrape running now, which scrapes arriving meanwhile share.
        self._current: Future[bytes] | None = None

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
        except (ResinspectError, OSError) as err:  # an unsafe runtime directory, say
            result.discovery_error = str(err)
            self._count("discovery")
        futures: list[tuple[AppInfo, Future[Snapshot]]] = []
        for app in result.apps:
            with self._lock:
                busy = app.socket in self._in_flight
                if not busy:
                    self._in_flight.add(app.socket)
            if busy:
                result.errors.append(ScrapeError(
                    app, "timeout", "still not answered an earlier scrape"))
                continue
            futures.append((app, self._pool.submit(self._fetch_one, app)))
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

    def _fetch_one(self, app: AppInfo) -> Snapshot:
        try:
            return self._fetch(app, self.timeout)
        finally:
            with self._lock:
                self._in_flight.discard(app.socket)

    def render(self) -> bytes:
        """Scrape and return the Prometheus text of every application read, plus our own.

        A scrape asked for while another runs shares that one's result: two hundred
        concurrent scrapes read every application once, not two hundred times.
        """
        with self._lock:
            current = self._current
            leader = current is None
            if current is None:
                current = self._current = Future()
        if not leader:
            return current.result()
        try:
            data = self._render_now()
        except BaseException as exc:
            current.set_exception(exc)
            raise
        else:
            current.set_result(data)
            return data
        finally:
            with self._lock:
                self._current = None

    def _render_now(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        from ..metrics.exporters import snapshots_to_prometheus

        scrape = self.scrape()
        try:
            apps_text = snapshots_to_prometheus(scrape.snapshots).encode()
        except Exception:
            # One snapshot the exposition cannot take must not cost the others: find it.
            apps_text = self._render_each(scrape)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_ExporterCollector(scrape, self.errors_total))
        # Two expositions end to end are one: their metric families never share a name.
        return apps_text + generate_latest(registry)

    def _render_each(self, scrape: Scrape) -> bytes:
        from ..metrics.exporters import snapshots_to_prometheus

        good = []
        apps = {app.pid: app for app in scrape.apps}
        for snap in scrape.snapshots:
            try:
                snapshots_to_prometheus([snap]).encode()
            except Exception as exc:
                app = apps.get(snap.pid) or AppInfo(pid=snap.pid, app=snap.app,
                                                   socket=Path("?"))
                scrape.errors.append(ScrapeError(app, "other",
                                                 f"snapshot not renderable: {exc!r}"))
                self._count("other")
            else:
                good.append(snap)
        scrape.snapshots = good
        return snapshots_to_prometheus(good).encode()

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
    #: Socket timeout of each connection (``StreamRequestHandler`` applies it): a client that
    #: sends half a request is closed after this, not served by a thread forever.
    timeout = REQUEST_TIMEOUT_S

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            from prometheus_client import CONTENT_TYPE_LATEST

            try:
                body = self.server.collector.render()
            except Exception as exc:  # one line in the log and a 500, never a traceback
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
