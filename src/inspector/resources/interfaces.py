"""The resource system's interfaces, as protocols: what controllers need from a service, and
what the inspector reads from one (docs/architecture.md, "The resource system").

Structural: ``ResourceManagementService`` satisfies them without inheriting (a QObject
cannot also inherit a Protocol: the metaclasses conflict), and so does any test double or
embedder's service that has the methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from .counts import StoreAggregate, WorkerState
from .orphans import OrphanInfo
from .types import LifecycleEvent, ResourceType, WatchedResource

R = TypeVar("R")


@runtime_checkable
class IResourceManagementService(Protocol):
    """What controllers, coordinators and the inspector's attach need from a resource service.

    ``get_service(IResourceManagementService)`` is the process's shared one.
    """

    def register_component(
        self, component: object, component_id: str, component_type: str = "component"
    ) -> None:
        """Start tracking an owner; it is cleaned up when it is destroyed or collected."""
        ...

    def register_cleanup(
        self, component: object, callback: Callable[[], object], priority: int = 10
    ) -> None:
        """Run ``callback`` at the component's cleanup: higher priority first, ties in order."""
        ...

    def track_resource(self, component: object, resource_type: ResourceType, resource: object,
                       size_bytes: int | None = None, metadata: dict[str, Any] | None = None,
                       *, name: str | None = None, site: str | None = None) -> str:
        """Track a resource owned by ``component``; return an id unique in the process.

        ``name`` is shown instead of the id (default: the object's class name); ``site`` is
        where it was made, ``"function (file:line)"`` (default: the caller's frame).
        """
        ...

    def release_resource(self, component: object, resource_id: str) -> bool:
        """Stop tracking a resource; False for an unknown id, never an exception."""
        ...

    def cleanup_component(self, component: object) -> int:
        """Run the component's callbacks, release its resources, return how many."""
        ...

    def cleanup_all(self) -> int:
        """Clean up every component; return how many resources were released."""
        ...

    def get_statistics(self) -> dict[str, Any]:
        """Counts by type and component, bytes and peaks."""
        ...

    def is_tracked(self, resource_id: str) -> bool:
        """Whether ``resource_id`` is tracked now."""
        ...


@runtime_checkable
class StoreReader(Protocol):
    """What the inspector's model reads from a store: counters, pages and lookups."""

    #: Whether a track records its creation site (``attach(sites=...)`` sets it).
    capture_sites: bool

    def aggregate(self) -> StoreAggregate:
        """Every counter, consistent with each other."""
        ...

    def workers(self) -> list[WorkerState]:
        """Tracked workers and whether each runs."""
        ...

    def watched(self) -> list[WatchedResource]:
        """Resources released by a cleanup that are still alive."""
        ...

    def newest_resource(self, component_id: str, resource_type: str | None = None
                        ) -> tuple[str, str, str, str]:
        """``(resource_id, type value, name, site)`` of a component's newest resource."""
        ...

    def resource_rows(self, offset: int = 0, limit: int = 500,
                      component_id: str | None = None,
                      make: Callable[..., R] = ...) -> tuple[int, list[R]]:
        """One page of the tracked resources (rows made by ``make``) and the total."""
        ...

    def tracked_workers(self) -> list[tuple[object, str, str]]:
        """``(worker, component id, resource id)`` of each tracked worker still alive."""
        ...

    def worker_objects(self, resource_ids: list[str]) -> dict[str, object]:
        """The live worker objects among ``resource_ids``."""
        ...

    def find_resource(self, resource_id: str) -> tuple[object, str, str, str] | None:
        """``(object, type value, name, site)`` of a resource still alive, else None."""
        ...


class OrphanReader(Protocol):
    """What the inspector reads from a service's holding area for orphaned workers."""

    def infos(self) -> list[OrphanInfo]:
        """What each held, still running worker was tracked as."""
        ...

    def prune(self) -> None:
        """Let go of the held workers that have finished."""
        ...


@runtime_checkable
class InspectedService(Protocol):
    """What ``MetricsModel`` needs from a service: its events and its store's readings.

    ``ResourceManagementService`` is one; the model never reaches past this protocol, so a
    service of an embedder's own (or a test's) that has these members is inspected the same.
    """

    @property
    def store(self) -> StoreReader:
        """The store the model reads."""
        ...

    @property
    def orphans(self) -> OrphanReader:
        """Workers still running after their owner went without a cleanup."""
        ...

    def add_listener(self, listener: Callable[[LifecycleEvent], None], *,
                     resource_events: bool = False) -> None:
        """Call ``listener`` for every lifecycle event."""
        ...

    def remove_listener(self, listener: Callable[[LifecycleEvent], None]) -> None:
        """Stop calling ``listener``."""
        ...

    def aggregate(self) -> StoreAggregate:
        """Every counter, taken consistently under one lock."""
        ...

    def workers(self) -> list[WorkerState]:
        """Tracked workers and whether each runs."""
        ...

    def watched(self) -> list[WatchedResource]:
        """Resources released by a cleanup that are still alive."""
        ...
