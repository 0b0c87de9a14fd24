"""The resource listing, a page at a time, each row named by its thread."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import QThread

from inspector.metrics import MetricsModel
from inspector.metrics.listing import own_thread_name, resource_page
from inspector.resources import ResourceManagementService, ResourceType

from .helpers import Owner, Thing


def test_a_page_is_a_slice_with_the_total(service: ResourceManagementService) -> None:
    owner = Owner()
    service.register_component(owner, "Lister")
    keep = [Thing() for _ in range(12)]
    for size, thing in enumerate(keep):
        service.track_resource(owner, ResourceType.MEMORY, thing, size)
    page = resource_page(service, offset=4, limit=3, component_id="Lister")
    assert (page.total, page.offset) == (12, 4)
    assert [e.size_bytes for e in page.items] == [4, 5, 6]
    # Tracked on this thread: each row is named by it.
    assert {e.thread_name for e in page.items} == {threading.current_thread().name}
    assert resource_page(service, 0, 10, component_id="Nobody").total == 0
    with pytest.raises(ValueError, match="negative"):
        resource_page(service, offset=0, limit=-1, component_id=None)


def test_a_worker_row_is_named_by_the_workers_own_thread(
        service: ResourceManagementService) -> None:
    owner = Owner()
    service.register_component(owner, "Pool")
    worker = QThread()
    worker.setObjectName("indexer")
    service.track_resource(owner, ResourceType.WORKER, worker)
    (row,) = resource_page(service, 0, 10, component_id="Pool").items
    assert row.thread_name == "indexer"


def test_own_thread_name_of_each_kind_of_worker() -> None:
    assert own_thread_name(threading.Thread(name="fetcher")) == "fetcher"
    assert own_thread_name(QThread()) == "QThread"  # no objectName: its class
    assert own_thread_name(Thing()) == "Thing"
    gone = QThread()
    shiboken6.delete(gone)
    assert own_thread_name(gone) == ""  # its C++ object is gone


def test_resources_listing_is_paged(service: ResourceManagementService,
                                    model: MetricsModel) -> None:
    owner = Owner()
    service.register_component(owner, "Lister")
    keep = [Thing() for _ in range(30)]
    for i, t in enumerate(keep):
        service.track_resource(owner, ResourceType.FILE_HANDLE, t, i, {"path": f"/f{i}",
                                                                        "obj": object()})
    page = model.resources(offset=10, limit=5)
    assert page.total == 30
    assert page.offset == 10
    assert [e.size_bytes for e in page.items] == [10, 11, 12, 13, 14]
    assert page.items[0].type_name == "Thing"
    assert page.items[0].metadata is not None
    assert page.items[0].metadata["path"] == "/f10"
    assert page.items[0].metadata["obj"].startswith("<object")
    with pytest.raises(ValueError, match="negative"):
        model.resources(offset=-1)
