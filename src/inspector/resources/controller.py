"""The controller base class: business logic that owns its resources through a coordinator.

Tabs hold a controller and contain no tracking calls at all (docs/architecture.md, "The
resource system"); the controller's coordinator is bound to the controller, so its resources
are torn down when the controller is cleaned up, destroyed or collected.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict

from PySide6.QtCore import QObject

from .coordinator import BaseResourceCoordinator
from .interfaces import IResourceManagementService


class ComponentNumbers:
    """``Name#n`` ids for components made without one: stable across runs (never an
    address), unique among the ids one instance gives. :data:`NUMBERS` is the process's; a
    test or an application that wants a numbering of its own passes one to
    :class:`BaseController` (``numbers=``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: defaultdict[str, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1))

    def next(self, name: str) -> str:
        """The next ``name#n`` (any thread)."""
        with self._lock:
            return f"{name}#{next(self._counts[name])}"


#: The process's numbering: ids unique within the process unless a caller injects its own.
NUMBERS = ComponentNumbers()


class BaseController(QObject):
    """Base of every controller: a QObject with a resource coordinator bound to itself.

    ``component_id`` defaults to ``ClassName#n`` from ``numbers`` (default: the process's,
    :data:`NUMBERS`). Override
    :meth:`_create_resource_coordinator` to use a specialised coordinator.
    """

    def __init__(
        self,
        component_id: str | None = None,
        *,
        service: IResourceManagementService | None = None,
        parent: QObject | None = None,
        numbers: ComponentNumbers | None = None,
    ) -> None:
        super().__init__(parent)
        cid = component_id or (numbers or NUMBERS).next(type(self).__name__)
        self._resources = self._create_resource_coordinator(cid, service)
        self._resources.bind_to_component(self, "controller")

    def _create_resource_coordinator(
        self, component_id: str, service: IResourceManagementService | None
    ) -> BaseResourceCoordinator:
        """Factory for this controller's coordinator; override to specialise."""
        return BaseResourceCoordinator(component_id, service)

    @property
    def resources(self) -> BaseResourceCoordinator:
        """The coordinator through which this controller owns its resources."""
        return self._resources

    @property
    def component_id(self) -> str:
        """The id this controller is registered under."""
        return self._resources.component_id

    def cleanup(self) -> int:
        """Release everything this controller owns (callbacks first); return how many."""
        return self._resources.service.cleanup_component(self)
