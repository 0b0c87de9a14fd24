"""The deaths and registrations that wait for the store's lock to be released.

A weak-reference callback or a QObject's ``destroyed`` that arrives while this thread holds
the store's lock (a garbage collection inside a tracked call) may only record what happened;
each kind of record is its own immutable class, applied by inspector.resources.liveness.
"""

from __future__ import annotations

import msgspec

from .records import Component


class ResourceCollected(msgspec.Struct, frozen=True):
    """A tracked resource was garbage collected: release its record."""

    rid: str


class OwnerRegistered(msgspec.Struct, frozen=True):
    """An owner was registered implicitly by a track: announce it."""

    comp: Component


class OwnerCollected(msgspec.Struct, frozen=True):
    """An owner was garbage collected: run its cleanup (on its home thread)."""

    comp: Component


class QObjectDestroyed(msgspec.Struct, frozen=True):
    """A watched QObject was destroyed. Its address is resolved when it dies (malloc may
    hand the address to a new QObject before this is applied): the resource id and the
    owner that address named then, either may be None."""

    rid: str | None
    comp: Component | None


Pending = ResourceCollected | OwnerRegistered | OwnerCollected | QObjectDestroyed
