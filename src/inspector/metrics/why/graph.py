"""What one search has found: the holders seen so far, each pointing toward the object."""

from __future__ import annotations


class HolderGraph:
    """State of one search (ids only, except ``nodes``, which holds each object once)."""

    def __init__(self, target: object) -> None:
        self.nodes: dict[int, object] = {id(target): target}
        self.dist: dict[int, int] = {id(target): 0}
        self.child: dict[int, int] = {}  # holder id -> id of what it holds, toward the target
        self.occurrences: dict[int, int] = {}  # id -> references from holders found
        self.pairs: set[tuple[int, int]] = set()
        self.roots: dict[int, tuple[int, str]] = {}  # root holder id -> (dist, kind)
        # The caller's own frames outside this package: roots ranked after the others.
        self.callers: set[int] = set()
        self.fallback: dict[int, tuple[int, str]] = {}  # their root ids -> (dist, kind)
