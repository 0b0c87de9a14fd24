"""Resource coordinators: the layer between a controller and the service.

A coordinator is bound to one component (usually a controller), tracks what that component
owns, and tears it down in one call. It keeps no closures over ``self`` or over resources in
Qt connections (lambdas capturing a coordinator kept it alive and fired on dead wrappers):
liveness comes from the service, which hears ``destroyed`` and garbage collection itself.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Self

from ._qt import call_at_home
from .interfaces import IResourceManagementService
from .locator import get_service
from .types import ResourceType

log = logging.getLogger("inspector.resources")

Cleanup = Callable[[Any], object]


@dataclass(frozen=True, slots=True)
class ResourceHandle:
    """What ``track`` returns: the resource's id and type, and a way back to it.

    ``resource_ref()`` returns the resource, or None once it is gone; the handle never keeps
    a weakly referenceable resource alive.
    """

    resource_id: str
    resource_type: ResourceType
    component_id: str
    name: str
    resource_ref: Callable[[], Any] = field(repr=False, compare=False)
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class _Entry:
    __slots__ = ("cleanup", "handle")

    def __init__(self, handle: ResourceHandle, cleanup: Cleanup | None) -> None:
        self.handle = handle
        self.cleanup = cleanup


class ResourceCleanupError(Exception):
    """One or more of a coordinator's per-resource cleanups raised (each was logged)."""


def _reference(obj: object) -> Callable[[], Any]:
    try:
        return weakref.ref(obj)
    except TypeError:  # ints, dicts, lists: the service holds these strongly anyway
        return lambda: obj


def _default_cleanup(resource_type: ResourceType) -> Cleanup | None:
    if resource_type is ResourceType.FILE_HANDLE:
        return _call("close")
    if resource_type is ResourceType.TIMER:
        return _call("stop")
    return None


def _call(method: str) -> Cleanup:
    def cleanup(resource: Any) -> None:
        fn = getattr(resource, method, None)
        if fn is not None:
            fn()

    cleanup.__qualname__ = f"{method}()"
    return cleanup


class BaseResourceCoordinator:
    """Tracks the resources of one component and releases them together.

    ``service`` defaults to the process's shared service; pass one to keep tests apart.
    """

    #: Priority of this coordinator's cleanup among the component's callbacks.
    cleanup_priority = 10

    def __init__(
        self, component_id: str, service: IResourceManagementService | None = None
    ) -> None:
        self._component_id = component_id
        self._service: IResourceManagementService = (
            service if service is not None else get_service(IResourceManagementService))
        self._entries: dict[str, _Entry] = {}
        self._component_ref: Callable[[], Any] | None = None
        self._lock = threading.Lock()
        self._prune_at = 64
        self._armed = False
        self._home = threading.get_ident()
        self._errors: list[str] | None = None  # collects failures during cleanup_owned

    @property
    def component_id(self) -> str:
        """The id the bound component is registered under."""
        return self._component_id

    @property
    def service(self) -> IResourceManagementService:
        """The service this coordinator tracks with."""
        return self._service

    def bind_to_component(self, component: object, component_type: str | None = None) -> Self:
        """Register ``component`` with the service and clean up with it; returns self."""
        self._component_ref = _reference(component)
        self._service.register_component(
            component, self._component_id, component_type or type(component).__name__)
        self._arm(component)
        return self

    def _arm(self, component: object) -> None:
        # Callbacks are one-shot; the coordinator re-arms when it owns something again.
        # A bound method: the service holds it weakly, so this coordinator dies with its owner.
        self._armed = True
        self._service.register_cleanup(component, self.cleanup_owned, self.cleanup_priority)

    def cleanup_owned(self) -> int:
        """:meth:`cleanup_all`, as the owner's cleanup callback runs it: a resource cleanup
        that raised is reported to the teardown audit (``ResourceCleanupError``, raised
        after every resource was cleaned up and released)."""
        errors: list[str] = []
        self._errors = errors
        try:
            released = self.cleanup_all()
        finally:
            self._errors = None
        if errors:
            raise ResourceCleanupError(f"{len(errors)} resource cleanup"
                                       f"{'s' if len(errors) > 1 else ''} raised: "
                                       + "; ".join(errors))
        return released

    def track(
        self,
        resource: object,
        resource_type: ResourceType = ResourceType.CUSTOM,
        name: str | None = None,
        cleanup: Cleanup | None = None,
        auto_cleanup: bool = True,
        size_bytes: int | None = None,
        *,
        site: str | None = None,
        **metadata: Any,
    ) -> ResourceHandle:
        """Track ``resource``; ``cleanup(resource)`` runs when the coordinator cleans up.

        With ``auto_cleanup`` and no ``cleanup``, file handles are closed and timers stopped.
        ``name`` is shown instead of the id; ``site`` (default: the caller's frame outside
        the inspector package) is where it was made.
        """
        component = self._component()
        if not self._armed:
            self._arm(component)
        rid = self._service.track_resource(component, resource_type, resource, size_bytes,
                                           metadata or None, name=name or None, site=site)
        if name:
            metadata["name"] = name
        handle = ResourceHandle(rid, resource_type, self._component_id,
                                name or type(resource).__name__, _reference(resource),
                                MappingProxyType(metadata))
        handler = cleanup if cleanup is not None else (
            _default_cleanup(resource_type) if auto_cleanup else None)
        with self._lock:
            self._entries[rid] = _Entry(handle, handler)
            if len(self._entries) >= self._prune_at:
                self._prune_locked()
        return handle

    def release(self, resource_id: str, *, run_cleanup: bool = False) -> bool:
        """Stop tracking one resource (running its cleanup first if asked); False if unknown."""
        with self._lock:
            entry = self._entries.pop(resource_id, None)
        if run_cleanup and entry is not None:
            self._run_cleanup(entry)
        component = self._component_or_none()
        return self._service.release_resource(component, resource_id)

    def cleanup_all(self) -> int:
        """Run every resource's cleanup and release them all; return how many were released."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
            self._armed = False
        component = self._component_or_none()
        released = 0
        for entry in entries:
            self._run_cleanup(entry)
            released += self._service.release_resource(component, entry.handle.resource_id)
        return released

    def handles(self) -> list[ResourceHandle]:
        """Handles of the resources this coordinator still tracks."""
        with self._lock:
            self._prune_locked()
            return [e.handle for e in self._entries.values()]

    def get_statistics(self) -> dict[str, Any]:
        """What this coordinator tracks now: a count in all and by type."""
        handles = self.handles()
        by_type: dict[str, int] = {}
        for h in handles:
            by_type[h.resource_type.value] = by_type.get(h.resource_type.value, 0) + 1
        return {"component_id": self._component_id, "tracked": len(handles),
                "by_type": by_type}

    def __del__(self) -> None:
        # PySide frees an owner's attributes, this coordinator among them, before Qt emits
        # the owner's `destroyed`; the service's call to cleanup_all would then find nothing
        # to call. So a coordinator that dies still owning resources cleans them up itself:
        # not here, inside whatever frame dropped it, but from the main thread's event loop
        # when the main thread made it (call_at_home records the call, which keeps this
        # coordinator alive until then, and the exit clean-up runs it if the loop never
        # turns again; once either way).
        if getattr(self, "_armed", False) and getattr(self, "_entries", None):
            try:
                call_at_home(self._home, self._cleanup_at_collection)
            except Exception:  # a finaliser must not raise
                log.exception("cleanup of %s at its collection failed", self._component_id)

    def _cleanup_at_collection(self) -> None:
        BaseResourceCoordinator.cleanup_all(self)

    # -- internals --------------------------------------------------------------------------

    def _component(self) -> object:
        component = self._component_or_none()
        if component is None:
            raise RuntimeError(f"component {self._component_id} is not bound or no longer exists")
        return component

    def _component_or_none(self) -> object:
        return None if self._component_ref is None else self._component_ref()

    def _prune_locked(self) -> None:
        # Resources the service released on its own (collected, destroyed) leave the table;
        # the threshold doubles so pruning stays amortised O(1) per track.
        is_tracked = self._service.is_tracked
        self._entries = {rid: e for rid, e in self._entries.items() if is_tracked(rid)}
        self._prune_at = max(64, 2 * len(self._entries))

    def _run_cleanup(self, entry: _Entry) -> None:
        if entry.cleanup is None:
            return
        resource = entry.handle.resource_ref()
        if resource is None:
            return
        try:
            entry.cleanup(resource)
        except Exception as exc:  # one resource's cleanup must not stop the others
            log.exception("cleanup of %s (%s) in %s raised", entry.handle.name,
                          entry.handle.resource_id, self._component_id)
            errors = self._errors
            if errors is not None:
                errors.append(f"{entry.handle.resource_id} ({entry.handle.name}): "
                              f"{type(exc).__name__}: {exc}")
