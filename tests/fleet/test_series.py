"""Prometheus series are bounded: components are labelled by class, never by instance.

A long run that opens and closes tabs must not create a series per tab. The application here
is real (a service, a model, an InspectorServer on a real AF_UNIX socket) and so are both
readers: the exporter's collector with its real discovery, and ``resinspect snapshot
--format prom``.
"""

from __future__ import annotations

import gc
import itertools
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from inspector.fleet.exporter import FleetCollector
from inspector.metrics import MetricsModel
from inspector.resources import ResourceManagementService, ResourceType
from inspector.server import InspectorServer
from tests.cli_helpers import run_cli

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class LoggerTabController:
    """What a tab owns: a buffer of log lines (a CACHE of 1 KiB)."""

    def __init__(self, service: ResourceManagementService, number: int) -> None:
        self.lines: list[str] = []
        service.register_component(self, f"LoggerTabController#{number}", "controller")
        service.track_resource(self, ResourceType.CACHE, self.lines, 1024)


class Tabs:
    """Opens and closes tabs; every other closed tab leaks (cleaned up, still referenced)."""

    def __init__(self, service: ResourceManagementService) -> None:
        self.service = service
        self.numbers = itertools.count(1)
        self.leaked: list[LoggerTabController] = []
        self.opened = 0

    def open_and_close(self, count: int) -> None:
        for _ in range(count):
            tab = LoggerTabController(self.service, next(self.numbers))
            self.opened += 1
            self.service.cleanup_component(tab)
            if self.opened % 2 == 0:
                self.leaked.append(tab)
        gc.collect()


def series(text: str) -> Series:
    """Every sample of an exposition, by name and sorted labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def labelled(found: Series, name: str, component: str) -> float:
    values = [v for (n, labels), v in found.items()
              if n == name and ("component", component) in labels]
    assert len(values) == 1, (name, component, values)
    return values[0]


@pytest.fixture
def app(service: ResourceManagementService, model: MetricsModel, server: InspectorServer
        ) -> Tabs:
    """The application: the test's service and model, served on a real socket."""
    return Tabs(service)


def test_an_exporter_scrape_has_as_many_series_after_1000_tabs_as_after_10(
        app: Tabs, server: InspectorServer) -> None:
    collector = FleetCollector(timeout=5.0)
    try:
        app.open_and_close(10)
        after_10 = series(collector.render().decode())
        app.open_and_close(990)
        after_1000 = series(collector.render().decode())
    finally:
        collector.close()

    def app_series(found: Series) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
        return {key for key in found if not key[0].startswith("resinspect_exporter_")}

    assert app_series(after_10), "the scrape did not read the application"
    assert app_series(after_1000) == app_series(after_10)
    # The figures are the class's sums: 5 and then 500 leaked controllers, each still alive.
    assert labelled(after_10, "resinspect_component_instances", "LoggerTabController") == 5
    assert labelled(after_1000, "resinspect_component_instances", "LoggerTabController") == 500
    assert labelled(after_1000, "resinspect_component_live_resources",
                    "LoggerTabController") == 0  # every one released its buffer
    assert not any("#" in value for _, labels in after_1000 for _, value in labels)


def test_snapshot_format_prom_labels_components_by_class(
        app: Tabs, server: InspectorServer, tmp_path: Path) -> None:
    app.open_and_close(40)
    keep = LoggerTabController(app.service, 1000)  # one open tab, holding its buffer
    result = run_cli("snapshot", "--socket", str(server.path), "--format", "prom")
    assert (result.exit_code, result.stderr) == (0, "")
    found = series(result.stdout)
    assert labelled(found, "resinspect_component_instances", "LoggerTabController") == 21
    assert labelled(found, "resinspect_component_live_resources", "LoggerTabController") == 1
    assert labelled(found, "resinspect_component_bytes", "LoggerTabController") == 1024
    components = {dict(labels)["component"] for (_, labels) in found
                  if any(k == "component" for k, _ in labels)}
    assert components == {"LoggerTabController"}
    # Per-instance detail stays in the JSON snapshot.
    data = run_cli("snapshot", "--socket", str(server.path))
    assert '"LoggerTabController#1000"' in data.stdout
    del keep


def test_the_grafana_dashboard_queries_series_the_exporter_serves(
        app: Tabs, server: InspectorServer) -> None:
    """docs/grafana-dashboard.json parses and names only series a real scrape has."""
    import json
    import re

    from tests.conftest import ROOT

    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    named = {name for expr in exprs for name in re.findall(r"\bresinspect_\w+", expr)}
    collector = FleetCollector(timeout=5.0)
    try:
        app.open_and_close(4)
        scraped = {name for name, _ in series(collector.render().decode())}
    finally:
        collector.close()
    assert named, "the dashboard queries nothing"
    assert named <= scraped | {"resinspect_leak_suspects"}, named - scraped
    # By class, never by instance: every panel on components groups by the class label.
    assert all("by (" in e for e in exprs if "component" in e)
