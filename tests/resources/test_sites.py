"""Creation sites and names: where each resource was tracked and what it is called."""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QThread

from inspector.metrics import MetricsModel
from inspector.resources import (
    BaseResourceCoordinator,
    ResourceManagementService,
    ResourceType,
    WorkerResourceCoordinator,
)


class Thumb:
    pass


class Owner:
    pass


def _line() -> int:
    return sys._getframe(1).f_lineno


def test_a_direct_track_records_the_callers_function_file_and_line(
        service: ResourceManagementService) -> None:
    owner, thumb = Owner(), Thumb()
    rid, line = service.track_resource(owner, ResourceType.THUMBNAIL, thumb), _line()
    (info,) = service.store.resources()[1]
    assert info.resource_id == rid
    assert info.site == (f"test_a_direct_track_records_the_callers_function_file_and_line "
                         f"({__file__}:{line})")
    assert info.name == "Thumb"  # no name given: the class


def test_a_coordinators_track_skips_the_inspector_frames(
        service: ResourceManagementService) -> None:
    owner = Owner()
    coordinator = BaseResourceCoordinator("Owner#1", service).bind_to_component(owner)
    thumb = Thumb()
    handle, line = coordinator.track(thumb, ResourceType.THUMBNAIL, name="a.jpg"), _line()
    owner2 = Owner()
    worker_coord = WorkerResourceCoordinator("Owner#2", service).bind_to_component(owner2)
    worker = threading.Thread(target=lambda: None)
    whandle, wline = worker_coord.track_worker(worker, name="scan"), _line()
    rows = {r.resource_id: r for r in service.store.resources()[1]}
    assert rows[handle.resource_id].name == "a.jpg"
    assert rows[handle.resource_id].site.endswith(f"({__file__}:{line})")
    assert rows[whandle.resource_id].name == "scan"
    assert rows[whandle.resource_id].site.endswith(f"({__file__}:{wline})")
    assert handle.metadata["name"] == "a.jpg"


def test_a_given_name_and_site_are_kept_exactly(service: ResourceManagementService) -> None:
    owner, thread = Owner(), QThread()
    service.track_resource(owner, ResourceType.WORKER, thread, name="Loader\x1b[31m",
                           site="start (/app/main.py:12)")
    (info,) = service.store.resources()[1]
    assert (info.name, info.site) == ("Loader\x1b[31m", "start (/app/main.py:12)")


def test_sites_off_records_none_and_names_still_default() -> None:
    svc = ResourceManagementService(capture_sites=False)
    owner, thumb = Owner(), Thumb()
    svc.track_resource(owner, ResourceType.CACHE, thumb)
    (info,) = svc.store.resources()[1]
    assert (info.name, info.site) == ("Thumb", "")
    svc.store.capture_sites = True
    other = Thumb()
    svc.track_resource(owner, ResourceType.CACHE, other)
    assert svc.store.resources()[1][-1].site.startswith(
        "test_sites_off_records_none_and_names_still_default (")
    svc.cleanup_all()


def test_listings_and_suspects_carry_name_and_site(service: ResourceManagementService) -> None:
    model = MetricsModel(service, app="t")
    try:
        owner = Owner()
        coordinator = BaseResourceCoordinator("Owner#1", service).bind_to_component(owner)
        kept = Thumb()
        handle, line = coordinator.track(kept, ResourceType.THUMBNAIL, name="b.png"), _line()
        page = model.resources()
        assert page.items[0].name == "b.png"
        assert page.items[0].site.endswith(f"({__file__}:{line})")
        service.cleanup_component(owner)
        (suspect,) = [s for s in model.leak_suspects(float("inf"))
                      if s.resource_id == handle.resource_id]
        assert suspect.name == "b.png"
        assert suspect.site.endswith(f"({__file__}:{line})")
    finally:
        model.close()



def _track_here(service: ResourceManagementService, owner: Owner, thumb: Thumb) -> int:
    service.track_resource(owner, ResourceType.CACHE, thumb)
    return sys._getframe().f_lineno - 1


def _track_there(service: ResourceManagementService, owner: Owner, thumb: Thumb) -> int:
    service.track_resource(owner, ResourceType.CACHE, thumb)
    return sys._getframe().f_lineno - 1


def test_a_listing_tells_apart_sites_at_the_same_offset_and_repeats_itself(
        service: ResourceManagementService) -> None:
    # The two functions compile to the same instructions, so their sites share an offset
    # in different code objects; the first listing caches each text for the next.
    owner, thumbs = Owner(), [Thumb() for _ in range(6)]
    sites = [(_track_here, "_track_here") if i % 2 else (_track_there, "_track_there")
             for i in range(6)]
    expected = [f"{name} ({__file__}:{track(service, owner, thumb)})"
                for (track, name), thumb in zip(sites, thumbs, strict=True)]
    assert [r.site for r in service.store.resources()[1]] == expected
    assert [r.site for r in service.store.resources()[1]] == expected
