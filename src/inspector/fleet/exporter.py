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
be rendered leaves out that application alone. Scrapes that arrive while one runs share its
result. The HTTP side, bounded too, is :mod:`.endpoint`'s (its names are re-exported here).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import (
    AccessDenied,
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
from .endpoint import (
    BACKLOG,
    MAX_CONNECTIONS,
    REQUEST_TIMEOUT_S,
    SLOT_WAIT_S,
    ExporterServer,
    format_address,
    is_loopback,
    parse_listen,
)

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

#: Seconds one application may take to answer before it is skipped.
DEFAULT_TIMEOUT_S = 1.0
#: Applications read at the same time.
MAX_PARALLEL = 32

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
        except Exception:  # noqa: BLE001 - any failure: render one by one
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
            except Exception as exc:  # noqa: BLE001 - any failure names its app
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


__all__ = [
    "BACKLOG", "DEFAULT_TIMEOUT_S", "ERROR_REASONS", "MAX_CONNECTIONS", "MAX_PARALLEL",
    "REQUEST_TIMEOUT_S", "SLOT_WAIT_S", "ExporterServer", "FleetCollector", "Scrape",
    "ScrapeError", "error_reason", "fetch_snapshot", "format_address", "is_loopback",
    "parse_listen",
]
