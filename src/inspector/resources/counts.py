"""The store's read-only values: counters, listings' rows and worker states.

Immutable, made after the store's lock is released from plain tuples copied under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from .types import ResourceType


class TypeCounts(msgspec.Struct, frozen=True):
    """Counters of one resource type."""

    created: int
    destroyed: int
    bytes: int

    @property
    def live(self) -> int:
        return self.created - self.destroyed


class ComponentCounts(msgspec.Struct, frozen=True):
    """Counters of one registered component (a Struct: a snapshot builds one per component,
    and a frozen dataclass costs 1 us to build where a Struct costs 0.1)."""

    component_id: str
    component_type: str
    created: int
    destroyed: int
    bytes: int
    registered_at: float

    @property
    def live(self) -> int:
        return self.created - self.destroyed


@dataclass(frozen=True, slots=True)
class WorkerState:
    """A tracked worker and whether it runs now."""

    resource_id: str
    component_id: str
    running: bool
    tracked_at: float
    type_name: str


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """One tracked resource, for listings (never used on hot paths)."""

    resource_id: str
    component_id: str
    resource_type: ResourceType
    size_bytes: int
    age_s: float
    thread_id: int
    type_name: str
    alive: bool
    metadata: dict[str, Any] | None
    name: str = ""
    site: str = ""


@dataclass(frozen=True, slots=True)
class StoreAggregate:
    """A consistent copy of every counter, taken under one lock: O(types + components)."""

    by_type: dict[ResourceType, TypeCounts]
    components: tuple[ComponentCounts, ...]
    tracked_bytes: int
    peak_tracked_bytes: int
    #: ``(component id, type value, live, bytes)`` of every live component's types: growth
    #: is judged per owner and type, so one type's churn cannot hide another's rise.
    cells: tuple[tuple[str, str, int, int], ...] = ()

    @property
    def created_total(self) -> int:
        return sum(c.created for c in self.by_type.values())

    @property
    def destroyed_total(self) -> int:
        return sum(c.destroyed for c in self.by_type.values())

    @property
    def live_total(self) -> int:
        return self.created_total - self.destroyed_total
