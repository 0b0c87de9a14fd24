"""The seed's service locator, over instances that can also be passed in.

Library code asks ``get_service(IResourceManagementService)`` for the process's shared service,
created on first use. Tests and embedders pass their own service to coordinators and models
(the prometheus_client registry pattern), or swap the shared one with ``register_service``.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar, cast

from .service import IResourceManagementService, ResourceManagementService

T = TypeVar("T")

_lock = threading.Lock()
_services: dict[type, Any] = {}


def get_service(interface: type[T]) -> T:
    """The shared instance registered for ``interface``; the resource service is made on demand."""
    with _lock:
        service = _services.get(interface)
        if service is None:
            if interface is not IResourceManagementService:
                raise LookupError(f"no service registered for {interface.__name__}")
            service = _services[interface] = ResourceManagementService()
        return cast(T, service)


def register_service(interface: type[T], instance: T | None) -> T | None:
    """Make ``instance`` the shared ``interface`` service (None forgets it); return the old one."""
    if instance is not None and isinstance(interface, type) and not isinstance(instance, interface):
        raise TypeError(f"{instance!r} does not implement {interface.__name__}")
    with _lock:
        previous = _services.pop(interface, None)
        if instance is not None:
            _services[interface] = instance
        return cast("T | None", previous)
