"""SourceFeed: one refresh from the source to the views; a failing source is a status line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QDockWidget

from inspector.metrics.snapshot import ResourcePage
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
