"""The full resource listing, a page at a time, each row with the name of its thread."""

from __future__ import annotations

import threading

import msgspec

from inspector.resources import InspectedService

from .snapshot import ResourceEntry, ResourcePage


def resource_page(service: InspectedService, offset: int, limit: int,
                  component_id: str | None) -> ResourcePage:
    """A page of the listing (the model's one O(resources) call)."""
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit must not be negative")
    # Each row is named by the thread that tracked it as it is built, and only worker rows,
    # named by their own thread, are copied after.
    names = {t.ident: t.name for t in threading.enumerate() if t.ident is not None}
    total, items = service.store.resource_rows(offset, limit, component_id, ResourceEntry,
                                               thread_names=names)
    return ResourcePage(total=total, offset=offset, items=_workers_named(service, items))


def _workers_named(service: InspectedService, items: list[ResourceEntry]
                   ) -> list[ResourceEntry]:
    """Name each worker's row by the worker's own thread (a store without live workers
    costs no pass over the rows)."""
    workers = {rid: worker for worker, _, rid in service.store.tracked_workers()}
    if not workers:
        return items
    return [e if (w := workers.get(e.resource_id)) is None
            else msgspec.structs.replace(e, thread_name=own_thread_name(w)) for e in items]


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
