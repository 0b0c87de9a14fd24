"""The resource system: service, locator, coordinators, controller, pool (docs/architecture.md,
"The resource system")."""

from .controller import BaseController, ComponentNumbers
from .coordinator import BaseResourceCoordinator, ResourceHandle
from .counts import ComponentCounts, ResourceInfo, StoreAggregate, TypeCounts, WorkerState
from .interfaces import InspectedService, IResourceManagementService, StoreReader
from .locator import get_service, register_service
from .orphans import orphaned_workers
from .pool import PoolStatistics, ResourcePool
from .result import Result
from .service import ResourceManagementService, process_memory
from .types import CallbackRun, EventKind, LifecycleEvent, ResourceType, WatchedResource
from .ui_coordinator import UIResourceCoordinator
from .workers import WorkerResourceCoordinator

__all__ = [
    "BaseController",
    "BaseResourceCoordinator",
    "CallbackRun",
    "ComponentCounts",
    "ComponentNumbers",
    "EventKind",
    "IResourceManagementService",
    "InspectedService",
    "LifecycleEvent",
    "PoolStatistics",
    "ResourceHandle",
    "ResourceInfo",
    "ResourceManagementService",
    "ResourcePool",
    "ResourceType",
    "Result",
    "StoreAggregate",
    "StoreReader",
    "TypeCounts",
    "UIResourceCoordinator",
    "WatchedResource",
    "WorkerResourceCoordinator",
    "WorkerState",
    "get_service",
    "orphaned_workers",
    "process_memory",
    "register_service",
]
