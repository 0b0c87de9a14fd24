"""The seed's service locator, over instances that can also be passed in.

Library code asks ``get_service(IResourceManagementService)`` for the process's shared service,
created on first use. Tests and embedders pass their own service to coordinators and models
(the prometheus_client registry pattern), or swap the shared one with ``register_service``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from .interfaces import IResourceManagementService
from .service import ResourceManagementService

T = TypeVar("T")

_lock = threading.Lock()
_services: dict[object, Any] = {}


def get_service(interface: Callable[..., T]) -> T:
    """The shared instance registered for ``interface``; the resource service is made on demand.

    ``interface`` is a class or a protocol (typed as a callable: mypy refuses a protocol
    where ``type[T]`` is expected).
    """
    with _lock:
        service = _services.get(interface)
        if service is None:
            if interface is not IResourceManagementService:
                raise LookupError(f"no service registered for {_name(interface)}")
            service = _services[interface] = ResourceManagementService()
        return cast(T, service)


def register_service(interface: Callable[..., T], instance: object) -> T | None:
    """Make ``instance`` the shared ``interface`` service (None forgets it); return the old one.

    ``instance`` is checked when registered (a protocol is runtime-checkable), not typed:
    mypy would solve ``T`` from the instance and then refuse the protocol.
    """
    if instance is not None and isinstance(interface, type) and not isinstance(instance, interface):
        raise TypeError(f"{instance!r} does not implement {_name(interface)}")
    with _lock:
        previous = _services.pop(interface, None)
        if instance is not None:
            _services[interface] = instance
        return cast("T | None", previous)


def _name(interface: object) -> str:
    return getattr(interface, "__name__", repr(interface))
