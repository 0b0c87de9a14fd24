"""The full resource listing, a page at a time, each row with the name of its thread."""

from __future__ import annotations

import threading

import msgspec

from inspector.resources import InspectedService, ResourceType

from .snapshot import ResourceEntry, ResourcePage


def resource_page(service: InspectedService, offset: int, limit: int,
                  component_id: str | None) -> ResourcePage:
    """A page of the listing (the model's one O(resources) call)."""
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit must not be negative")
    total, items = service.store.resource_rows(offset, limit, component_id, ResourceEntry)
    return ResourcePage(total=total, offset=offset, items=_with_thread_names(service, items))


def _with_thread_names(service: InspectedService, items: list[ResourceEntry]
                       ) -> list[ResourceEntry]:
    """Name each row's thread: a worker's own, else the one that tracked it."""
    if not items:
        return items
    names = {t.ident: t.name for t in threading.enumerate()}
    workers = service.store.worker_objects(
        [e.resource_id for e in items if e.resource_type == ResourceType.WORKER.value])
    out = []
    for e in items:
        worker = workers.get(e.resource_id)
        name = own_thread_name(worker) if worker is not None else names.get(e.thread_id, "")
        out.append(msgspec.structs.replace(e, thread_name=name) if name else e)
    return out


def own_thread_name(worker: object) -> str:
    """A worker's own thread's name: a QThread's objectName (else its class), a
    ``threading.Thread``'s name, else the worker's class."""
    try:
        object_name = getattr(worker, "objectName", None)
        if callable(object_name):
            return str(object_name()) or type(worker).__name__
        name = getattr(worker, "name", None)
        if isinstance(name, str) and name:
            return name
    except RuntimeError:  # a QThread whose C++ object is gone
        return ""
    return type(worker).__name__
