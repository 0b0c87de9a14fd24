"""The dock over the real MetricsModel and a real ResourceManagementService."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from inspector.metrics import MetricsModel, Snapshot
from inspector.resources import ResourceManagementService, ResourceType
from inspector.ui import InspectorDock, MetricsSource

from .fakes import FakeSource
from .imaging import reddish

MakeDock = Callable[..., InspectorDock]


class Owner:
    """A plain component: cleaned up when collected."""


class Blob:
    """A weakly referenceable resource."""


@pytest.fixture
def model(service: Any) -> Iterator[MetricsModel]:
    """A model that is not started: the test takes samples itself, deterministically."""
    m = MetricsModel(service, app="ui-test")
    yield m
    m.close()


def test_the_model_is_a_metrics_source(model: MetricsModel) -> None:
    assert isinstance(model, MetricsSource)


def test_tracked_resource_shows_in_table_plot_and_markers_within_one_refresh(
        make_dock: MakeDock, service: ResourceManagementService, model: MetricsModel) -> None:
    dock = make_dock(model)
    model.sample()
    dock.refresh()
    assert "Owner" not in [r[0] for r in dock.tables.components.model.rows()]

    owner, blob = Owner(), Blob()
    service.register_component(owner, "Owner")
    service.track_resource(owner, ResourceType.CACHE, blob, 1000)
    model.sample()
    dock.refresh()

    rows = {r[0]: r for r in dock.tables.components.model.rows()}
    assert rows["Owner"][2:] == (1, 1000, True)
    assert dock.plots.data("tracked")[1][-1] == 1000
    assert dock.plots.data("type:cache")[1][-1] == 1
    assert ("registered", "Owner") in {(g.kind, g.component_id)
                                       for g in dock.plots.marker_groups}
    assert "cache 1000 B in 1 entries" in dock.summary.labels["cache"].text()

    assert dock.tables.select_component("Owner")
    resources = dock.tables.resources.model.rows()
    assert [(r[1], r[3]) for r in resources] == [("cache", 1000)]
    del blob


def test_cleanup_shows_in_the_teardown_audit(make_dock: MakeDock,
                                             service: ResourceManagementService,
                                             model: MetricsModel) -> None:
    dock = make_dock(model)
    # A sample before the events: markers are drawn within the sampled time span, and the
    # sampler thread's own first sample may come after them (this test failed 1 run in 5).
    model.sample()
    owner, blob = Owner(), Blob()
    service.register_component(owner, "Closing")
    service.track_resource(owner, ResourceType.THUMBNAIL, blob, 64)
    ran: list[str] = []

    def flush_thumbnails() -> None:
        ran.append("flush")

    service.register_cleanup(owner, flush_thumbnails, priority=5)
    service.cleanup_component(owner)
    model.sample()
    dock.refresh()

    assert ran == ["flush"]
    audits = dock.tables.audits.model.rows()
    assert any(r[0] == "Closing" and "flush_thumbnails" in r[5] for r in audits)
    kinds = {(g.kind, g.component_id) for g in dock.plots.marker_groups}
    assert ("cleaned_up", "Closing") in kinds or ("registered", "Closing") in kinds


def test_clear_history_clears_the_model_history(make_dock: MakeDock,
                                                model: MetricsModel) -> None:
    dock = make_dock(model)
    for _ in range(3):
        model.sample()
    dock.refresh()
    assert len(dock.plots.data("rss")[0]) == 3
    dock.clear_history()
    assert model.history().t == []


def test_export_of_a_real_snapshot_loads_back(tmp_path: Path, make_dock: MakeDock,
                                              service: ResourceManagementService,
                                              model: MetricsModel) -> None:
    owner, blob = Owner(), Blob()
    service.register_component(owner, "Exported")
    service.track_resource(owner, ResourceType.MEMORY, blob, 4096)
    dock = make_dock(model)
    dock.refresh()
    loaded = Snapshot.from_json(dock.export_snapshot(tmp_path / "s.json").read_bytes())
    assert loaded == dock.last_snapshot
    assert [c.id for c in loaded.components] == ["Exported"]
    del blob


def test_a_snapshot_taken_during_a_real_freeze_shows_red(
        make_dock: MakeDock, model: MetricsModel) -> None:
    # What `resinspect view` shows: a snapshot taken off the GUI thread while it is stuck.
    model.probe.interval_ms = 50
    assert model.probe.start()
    QApplication.processEvents()
    taken: dict[str, Snapshot] = {}

    def snapshot_later() -> None:
        time.sleep(0.8)
        taken["snap"] = model.snapshot()

    thread = threading.Thread(target=snapshot_later)
    thread.start()
    time.sleep(1.1)  # the GUI thread (this one) does not turn its event loop
    thread.join()
    frozen = taken["snap"]
    assert frozen.event_loop_blocked
    assert any("test_a_snapshot_taken_during_a_real_freeze" in f for f in frozen.gui_stack)

    dock = make_dock(FakeSource(snap=frozen, hist=model.history()))
    dock.resize(900, 700)
    dock.show()
    dock.refresh()
    assert reddish(dock.summary.labels["lag"]) > 20
    assert "test_a_snapshot_taken_during_a_real_freeze" in dock.summary.labels["lag"].toolTip()


_HELD: list[object] = []


def test_selecting_a_suspect_shows_what_keeps_it_alive(
        make_dock: MakeDock, service: ResourceManagementService, qtbot: Any) -> None:
    from inspector.metrics.suspects import SuspectPolicy

    model = MetricsModel(service, app="ui-test", policy=SuspectPolicy(retained_after_s=0.0))
    try:
        dock = make_dock(model)
        owner, blob = Owner(), Blob()
        service.register_component(owner, "Owner")
        rid = service.track_resource(owner, ResourceType.CACHE, blob, 10)
        _HELD.append(blob)
        del blob
        service.cleanup_component(owner)
        dock.refresh()
        view = dock.tables.suspects.view
        row = next(i for i in range(dock.tables.suspects.proxy.rowCount())
                   if dock.tables.suspects.proxy.index(i, 2).data().endswith(rid))
        view.selectRow(row)
        qtbot.waitUntil(lambda: "module global" in dock.tables.why_label.text(), timeout=10_000)
        text = dock.tables.why_label.text()
        assert f"{__name__}._HELD" in text
        assert "object: Blob" in text
    finally:
        _HELD.clear()
        model.close()


def test_the_resources_table_shows_names_and_sites(
        make_dock: MakeDock, service: ResourceManagementService, model: MetricsModel) -> None:
    from PySide6.QtCore import Qt

    dock = make_dock(model)
    owner, blob = Owner(), Blob()
    service.register_component(owner, "Owner")
    service.track_resource(owner, ResourceType.CACHE, blob, 10, name="thumbs",
                           site="load (/app/gallery.py:7)")
    dock.refresh()
    assert dock.tables.select_component("Owner")
    model_ = dock.tables.resources.model
    assert [r[2] for r in model_.rows()] == ["thumbs"]
    tip = model_.data(model_.index(0, 2), Qt.ItemDataRole.ToolTipRole)
    assert tip == "thumbs\nmade at load (/app/gallery.py:7)"
    del blob
