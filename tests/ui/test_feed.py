"""SourceFeed: one refresh from the source to the views; a failing source is a status line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QDockWidget

from inspector.metrics.snapshot import ResourcePage, WhyResult
from inspector.ui.feed import SourceFeed
from inspector.ui.panel import Panel
from inspector.ui.status import StatusLine

from .conftest import delete_now
from .fakes import ClearableFakeSource, FakeSource


class BrokenResources(ClearableFakeSource):
    """Answers snapshots; fails to list resources and to clear its history."""

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        raise TimeoutError("resources timed out")

    def clear_history(self) -> None:
        raise OSError("read-only recording")


@pytest.fixture
def host(qapp: QApplication) -> Iterator[QDockWidget]:
    dock = QDockWidget()
    yield dock
    delete_now(dock)


def test_a_refresh_fills_every_view_without_plots(host: QDockWidget) -> None:
    status = StatusLine()
    panel = Panel(host, status)
    feed = SourceFeed(FakeSource(), status)
    feed.panel = panel
    feed.refresh(panel, timed=True)
    assert feed.last_snapshot is not None
    assert panel.summary.labels["app"].text().startswith("fake-app (pid 4242)")
    assert panel.tables.components.model.rowCount() == 2
    assert status.message == ""
    feed.plot_now()  # no plots yet: nothing to draw, nothing raised


def test_every_failing_call_is_one_status_line(host: QDockWidget) -> None:
    status = StatusLine()
    panel = Panel(host, status)
    source = BrokenResources()
    feed = SourceFeed(source, status)
    feed.panel = panel
    feed.refresh(panel, timed=False)
    assert panel.tables.select_component("Gallery")  # the dock asks for its resources
    feed.update_resources(force=True)
    assert status.message == "resources failed: resources timed out"
    feed.clear_history()
    assert status.message == "clear history failed: read-only recording"
    source.fail = ConnectionError("socket closed")
    feed.refresh(panel, timed=False)
    assert status.message == "source failed: socket closed"
    assert panel.status_label.text() == status.message
    feed.set_source(None)
    assert status.message == ""
    assert panel.tables.components.model.rowCount() == 0


class GoneSource(FakeSource):
    """A remote-like source: keeps answering its last state, and says why the app is gone."""

    error: str | None = None

    def why(self, resource_id: str) -> WhyResult:
        raise LookupError(resource_id)


def test_a_sources_capabilities_are_used_only_when_it_has_them(host: QDockWidget) -> None:
    status = StatusLine()
    panel = Panel(host, status)
    source = GoneSource()
    feed = SourceFeed(FakeSource(), status)
    feed.panel = panel
    feed.set_source(source)
    assert panel.tables.why_label.source == source.why  # it can explain: the why view asks it
    feed.refresh(panel, timed=False)
    assert status.message == ""
    source.error = "connection reset by peer"
    feed.refresh(panel, timed=False)
    assert status.message == "application gone: connection reset by peer"
    feed.set_source(FakeSource())  # no ``why``, no ``error``: neither is asked
    assert panel.tables.why_label.source is None
    feed.refresh(panel, timed=False)
    assert status.message == ""
