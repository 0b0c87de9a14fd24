"""The store's record types: owners, their per-type counter cells, cleanup callbacks and the
record of each tracked resource (docs/architecture.md, "The resource system").

Plain ``__slots__`` objects, because a track allocates one record and touches one cell:
an attribute write on a QObject subclass costs 15x, a dataclass's ``__init__`` 3x.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from types import CodeType
from typing import Any

from .types import ResourceType

_WORKER = ResourceType.WORKER
_TYPES = tuple(ResourceType)

QOBJECT_FLAG = 1
WORKER_FLAG = 2
HELD_FLAG = 4
META_FLAG = 8
#: Flags that mean a release has side tables to update (HELD_FLAG has none).
INDEXED = QOBJECT_FLAG | WORKER_FLAG | META_FLAG


class KeyedRef(weakref.ref):  # type: ignore[type-arg]
    """A weak reference that remembers the key it was filed under.

    No Python ``__new__``/``__init__``: construction stays in C (about 220 ns, where
    WeakValueDictionary's KeyedRef costs 600 ns), and the key is set right after.
    The slot costs 8 bytes; a bound-method callback per record would cost 72.
    """

    __slots__ = ("key",)
    key: Any


class Strong:
    """A callable like a weak reference, for owners that cannot be weakly referenced."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj: object = obj

    def __call__(self) -> object:
        return self.obj


def weak_callable(fn: Callable[..., None]) -> Callable[[], Callable[..., None] | None]:
    """A bound method held weakly (its object must stay collectable), anything else strongly."""
    if hasattr(fn, "__self__") and hasattr(fn, "__func__"):
        return weakref.WeakMethod(fn)
    return Strong(fn)  # type: ignore[return-value]


class Cell:
    """One component's counters for one resource type: the only counters a track bumps.

    A component holds a cell per type it owns; the store's totals by type and by component
    are sums over cells, made when read. The type's constants are copied in, so the hot
    path reads everything it needs from the one object a lookup gives it.
    """

    __slots__ = ("bytes", "comp", "created", "destroyed", "flags", "name", "prefix", "rtype")

    def __init__(self, comp: Component, rtype: ResourceType) -> None:
        self.comp = comp
        self.rtype = rtype
        self.name = rtype.value  # Enum.value is a descriptor: 100 ns a read
        self.prefix = rtype.value + "-"
        self.flags = WORKER_FLAG if rtype is _WORKER else 0
        self.created = 0
        self.destroyed = 0
        self.bytes = 0


class Callback:
    """One registered cleanup callback, in priority then registration order."""

    __slots__ = ("fn", "name", "priority", "seq", "weak")

    def __init__(self, fn: Callable[[], object], priority: int, seq: int) -> None:
        # A bound method is held weakly: a component that registers its own method must
        # still be collectable. Plain functions are held strongly.
        self.weak = hasattr(fn, "__self__") and hasattr(fn, "__func__")
        self.fn: Any = weakref.WeakMethod(fn) if self.weak else fn
        self.priority = priority
        self.seq = seq
        self.name = getattr(fn, "__qualname__", None) or repr(fn)

    def resolve(self) -> Callable[[], object] | None:
        """The callable, or None once a weakly held method's object is gone."""
        return self.fn() if self.weak else self.fn  # type: ignore[no-any-return]


class Component:
    """A registered owner: its id, liveness handle, resources, cells and callbacks.

    ``rids`` is a dict used as an ordered set: insertion order is tracking order, so the
    newest resource is found without parsing ids, and a dict store is cheaper than
    ``set.add`` (no method call).
    """

    __slots__ = ("callbacks", "cells", "cid", "cleaning", "ctype", "ended", "gone", "home",
                 "key", "qaddr", "ref", "registered_at", "rids", "strong")

    def __init__(self, key: int, cid: str, ctype: str, now: float) -> None:
        self.key = key
        self.cid = cid
        self.ctype = ctype
        self.ref: Callable[[], object] | None = None
        self.strong: object = None  # only for owners that cannot be weakly referenced
        self.qaddr = 0
        self.rids: dict[str, None] = {}
        self.callbacks: list[Callback] = []
        self.cells: dict[ResourceType, Cell] = {}
        self.gone = False  # unregistered: its settled cells may be folded away
        self.home = threading.get_ident()  # the thread that registered it
        self.registered_at = now
        self.cleaning = False
        self.ended = "collected"  # how a deferred cleanup's owner went: collected or destroyed

    def obj(self) -> object:
        """The owner, or None once it is gone."""
        return None if self.ref is None else self.ref()

    @property
    def created(self) -> int:
        """Resources this owner has tracked, over every type."""
        return sum(cell.created for cell in self.cells.values())


RECORD_SLOTS = ("rid", "comp", "cell", "size", "flags", "created", "thread", "name", "site",
                "lasti")


class RecordFields:
    """The fields both kinds of record have (each declares the slots itself: a weak
    reference's layout cannot be shared with a plain object's)."""

    __slots__ = ()
    rid: str
    comp: Component
    cell: Cell
    size: int
    flags: int
    created: float
    thread: int
    name: str | None
    site: CodeType | str | None
    lasti: int

    @property
    def rtype(self) -> ResourceType:
        """The resource's type."""
        return self.cell.rtype


class Resource(weakref.ref, RecordFields):  # type: ignore[type-arg]
    """A tracked resource's record, which is also its weak reference.

    One object instead of a record plus a weak reference: a track allocates once, the
    collection callback receives the record itself, and each resource costs ~50 bytes less.
    Calling the record returns the resource, or None once it is gone. ``flags`` tells in one
    test whether a release has side tables to update (QOBJECT_FLAG: a C++ address;
    WORKER_FLAG: in the worker index; META_FLAG: metadata, which is rare, lives in a side
    table so the common track stores nothing for it). ``cell`` is its owner's counters for
    its type, so ``cell.rtype`` is the resource type: nothing parses it out of the id.
    ``name`` is the name the caller gave (None: the object's class name, read when shown).
    ``site`` is where it was tracked: the caller's code object, with ``lasti`` its
    instruction offset (see inspector.resources.sites), or a string the caller gave; unset
    when sites are off.
    """

    __slots__ = RECORD_SLOTS


class HeldResource(RecordFields):
    """The record of a resource that cannot be weakly referenced: held until released."""

    __slots__ = (*RECORD_SLOTS, "strong")

    def __init__(self, strong: object) -> None:
        self.strong = strong

    def __call__(self) -> object:
        return self.strong


Record = Resource | HeldResource

_BY_VALUE: dict[object, ResourceType] = {t: t for t in _TYPES}


def check_type(resource_type: object) -> ResourceType:
    """The member ``resource_type`` names (a member or its value), or TypeError."""
    try:
        return _BY_VALUE[resource_type]
    except (KeyError, TypeError):
        raise TypeError(f"resource_type must be a ResourceType, got {resource_type!r}"
                        ) from None


def resource_serial(resource_id: str) -> int:
    """The process-wide serial number in a resource id (``"{type}-{n}"``, made by the store's
    track from ``Cell.prefix``), -1 for an id not made that way. For values that carry only
    the id (a snapshot's leak suspects); the store itself orders records by tracking order."""
    tail = resource_id.rpartition("-")[2]
    return int(tail) if tail.isdigit() else -1


def default_id(component: object) -> str:
    """The id of an owner registered implicitly, by its first track or cleanup."""
    return f"{type(component).__name__}@{id(component):x}"
