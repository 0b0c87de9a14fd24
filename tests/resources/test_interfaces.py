"""The service's interfaces are protocols, and its fast path never hides an override."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inspector.resources import (
    BaseResourceCoordinator,
    InspectedService,
    IResourceManagementService,
    ResourceManagementService,
    ResourceType,
    StoreReader,
    get_service,
    register_service,
)


class Owner:
    """A plain owner."""


class Thing:
    """A weakly referenceable resource."""


class CountingService(ResourceManagementService):
    """A subclass that overrides the hot calls, as an embedder's audit might."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        super().__init__()

    def track_resource(self, component: object, resource_type: ResourceType,
                       resource: object, size_bytes: int | None = None,
                       metadata: dict[str, Any] | None = None, *, name: str | None = None,
                       site: str | None = None) -> str:
        self.calls.append("track")
        return super().track_resource(component, resource_type, resource, size_bytes,
                                      metadata, name=name, site=site)

    def release_resource(self, component: object, resource_id: str) -> bool:
        self.calls.append("release")
        return super().release_resource(component, resource_id)


@pytest.fixture
def counting(qapp: object) -> Iterator[CountingService]:
    svc = CountingService()
    yield svc
    svc.cleanup_all()


def test_a_subclass_override_of_the_hot_calls_is_called(counting: CountingService) -> None:
    owner, thing = Owner(), Thing()
    rid = counting.track_resource(owner, ResourceType.CACHE, thing, 8)
    assert counting.release_resource(owner, rid)
    assert counting.calls == ["track", "release"]
    assert counting.fast_path_bound == {"register_component"}  # the one not overridden
    assert counting.get_statistics()["created_total"] == 1


def test_a_coordinator_reaches_the_override(counting: CountingService) -> None:
    owner = Owner()
    coordinator = BaseResourceCoordinator("C", counting).bind_to_component(owner)
    thing = Thing()
    handle = coordinator.track(thing, ResourceType.CACHE)
    assert coordinator.release(handle.resource_id)
    assert counting.calls == ["track", "release"]


def test_the_plain_service_serves_the_hot_calls_from_its_store(
        service: ResourceManagementService) -> None:
    assert service.fast_path_bound == set(ResourceManagementService.FAST_PATH)
    assert service.track_resource == service.store.track_resource


def test_the_service_and_store_satisfy_the_protocols(
        service: ResourceManagementService) -> None:
    assert isinstance(service, IResourceManagementService)
    assert isinstance(service, InspectedService)
    assert isinstance(service.store, StoreReader)
    assert not isinstance(Owner(), IResourceManagementService)


def test_the_locator_is_keyed_by_the_protocol(service: ResourceManagementService) -> None:
    previous = register_service(IResourceManagementService, service)
    try:
        assert get_service(IResourceManagementService) is service
        with pytest.raises(TypeError, match="does not implement IResourceManagementService"):
            register_service(IResourceManagementService, Owner())
    finally:
        register_service(IResourceManagementService, previous)
