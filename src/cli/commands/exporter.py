"""``resinspect exporter``: Prometheus ``/metrics`` for every live application.

A thin front for :mod:`inspector.fleet.exporter`: parse ``--listen``, warn when it reaches
beyond loopback, print the URL, serve until Ctrl-C or SIGTERM (status 0).
"""

from __future__ import annotations

import contextlib
import sys

import click

from cli.options import Seconds


@click.command()
@click.option("--listen", required=True, metavar="HOST:PORT",
              help="Address to serve on, e.g. 127.0.0.1:9464 ([::1]:9464 for IPv6); port 0 "
                   "picks a free one. Anything but loopback is reachable from the network.")
@click.option("--timeout", type=Seconds(min=0.05, max=60.0), default=1.0, show_default=True,
              help="Seconds each application may take to answer a scrape before it is "
                   "skipped (and counted in resinspect_exporter_scrape_errors_total).")
def exporter(listen: str, timeout: float) -> None:
    """Serve every live application's metrics to Prometheus at /metrics.

    Each scrape reads every application over its local socket; the applications themselves
    never open a network port.
    """
    from inspector.fleet.exporter import (
        ExporterServer,
        FleetCollector,
        format_address,
        is_loopback,
        parse_listen,
    )
    from inspector.fleet.signals import sigterm_as_interrupt

    host, port = parse_listen(listen)
    server = ExporterServer(FleetCollector(timeout=timeout), host, port)
    try:
        if not is_loopback(host):
            click.echo(f"resinspect: warning: listening on {format_address(host, port)}, "
                       "beyond loopback: whoever can reach it reads every application's "
                       "metrics", err=True)
        # The URL carries the port actually bound, which is how a caller learns it for 0.
        click.echo(f"serving {server.url}")
        sys.stdout.flush()  # a caller reading our stdout through a pipe needs it now
        # Ctrl-C or SIGTERM is the way an exporter is stopped: status 0.
        with sigterm_as_interrupt(), contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
