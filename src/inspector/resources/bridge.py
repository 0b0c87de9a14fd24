"""What the plain-Python store needs from Qt, as a protocol, and a bridge for no Qt at all.

The store imports no Qt: the service hands it ``QtBridge`` (inspector.resources._qt); a
store made without one treats nothing as a QObject and runs deferred cleanups at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class QtLink(Protocol):
    """Recognising QObjects, hearing them die, and running a call on an owner's thread."""

    #: ``type -> is it a QObject``: the hot path reads this dict directly (28 ns a hit).
    known_types: dict[type, bool]

    def is_qobject(self, obj: object) -> bool:
        """True when ``obj`` is a QObject (answer cached per type in ``known_types``)."""
        ...

    def watch(self, obj: object) -> int:
        """Report ``obj``'s destruction to the bridge's callback; return its C++ address."""
        ...

    def is_valid(self, obj: object) -> bool:
        """False once the C++ side of a wrapper has been deleted."""
        ...

    def address(self, obj: object) -> int:
        """A QObject's C++ address (the key its destruction is reported under)."""
        ...

    def call_at_home(self, home: int | None, fn: Callable[[], object]) -> bool:
        """Run ``fn`` for something made on thread ``home``, from that thread's event loop
        when there is one to hand it to, else now; return whether it ran now. Called from
        finalisers: handing over must only record and wake."""
        ...


#: Makes a bridge that calls ``on_destroyed(address)`` when a watched QObject dies.
BridgeFactory = Callable[[Callable[[int], None]], QtLink]


class PlainBridge:
    """The bridge of a store without Qt: no object is a QObject, every call runs now."""

    __slots__ = ("known_types",)

    def __init__(self, on_destroyed: Callable[[int], None]) -> None:
        del on_destroyed  # nothing is ever watched
        self.known_types: dict[type, bool] = {}

    def is_qobject(self, obj: object) -> bool:
        """Never: without Qt there are no QObjects."""
        self.known_types[type(obj)] = False
        return False

    def watch(self, obj: object) -> int:
        """Unreachable (nothing is a QObject); raises TypeError."""
        raise TypeError(f"{obj!r} is not a QObject")

    def is_valid(self, obj: object) -> bool:
        """Always: a plain object has no C++ side to lose."""
        return True

    def address(self, obj: object) -> int:
        """Unreachable (nothing is a QObject); raises TypeError."""
        raise TypeError(f"{obj!r} is not a QObject")

    def call_at_home(self, home: int | None, fn: Callable[[], object]) -> bool:
        """Run ``fn`` now: without an event loop there is no home to hand it to."""
        fn()
        return True


def is_running(obj: object) -> bool:
    """Whether a worker-like object is running: QThread, threading.Thread, or anything alike.

    Something that cannot say (a QRunnable has neither ``isRunning`` nor ``is_alive``) does
    not count as running: counting it would have it held, and reported, forever.
    """
    try:
        probe = getattr(obj, "isRunning", None)
        if probe is not None:
            return bool(probe())
        probe = getattr(obj, "is_alive", None)
        if probe is not None:
            return bool(probe())
    except RuntimeError:  # the C++ object behind the wrapper is already deleted
        return False
    return False


def can_tell_running(obj: object) -> bool:
    """Whether ``obj`` says when it runs (``isRunning`` or ``is_alive``)."""
    return hasattr(obj, "isRunning") or hasattr(obj, "is_alive")
