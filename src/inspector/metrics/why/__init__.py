"""Why is it still alive: the shortest chain of references from a root to an object.

LeakCanary's answer to "what keeps it": walk the heap backwards from the object, breadth
first, until a root is reached: a module global, a class attribute, a running thread's frame,
or something held from native code (a Qt signal connection holding a lambda, a C++ parent
holding a widget).

One module per job: :mod:`.search` walks the heap backwards, breadth first, recording what
it finds in a :class:`~.graph.HolderGraph`; :mod:`.threadframes` makes the threads' frames
roots; :mod:`.frozen` finds holders that ``gc.freeze`` hid; :mod:`.chain` turns the best root
into the links a user reads, named by :mod:`.names`.
"""

from __future__ import annotations

from .names import describe_object
from .search import FRONTIER, MAX_DEPTH, MAX_NODES, explain

__all__ = ["FRONTIER", "MAX_DEPTH", "MAX_NODES", "describe_object", "explain"]
