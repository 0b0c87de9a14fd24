"""A bounded LRU cache of thumbnails, the kind a media tab keeps.

The cache only stores; it does not know about resource tracking. Whoever owns it (the
media controller) tracks what it puts in and releases what :meth:`ThumbnailCache.put`
reports as evicted.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtGui import QImage


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One cached thumbnail and the id its owner tracks it under."""

    key: str
    image: QImage
    size_bytes: int
    resource_id: str


class ThumbnailCache:
    """Least-recently-used thumbnails, bounded by entry count and by bytes."""

    def __init__(self, max_entries: int = 24, max_bytes: int = 4 * 1024 * 1024) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a thumbnail cache needs room for at least one entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    @property
    def size_bytes(self) -> int:
        """Bytes held by the cached images."""
        return self._bytes

    def ordered_keys(self) -> list[str]:
        """Keys from least to most recently used."""
        return list(self._entries)

    def get(self, key: str) -> QImage | None:
        """The thumbnail for ``key`` (now the most recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.image

    def put(self, entry: CacheEntry) -> list[CacheEntry]:
        """Insert (or replace) an entry; return what it pushed out, oldest first.

        A replaced entry is returned too: its old image is no longer cached.
        """
        evicted: list[CacheEntry] = []
        old = self._entries.pop(entry.key, None)
        if old is not None:
            self._bytes -= old.size_bytes
            evicted.append(old)
        self._entries[entry.key] = entry
        self._bytes += entry.size_bytes
        while len(self._entries) > 1 and (
                len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            _, oldest = self._entries.popitem(last=False)
            self._bytes -= oldest.size_bytes
            evicted.append(oldest)
        return evicted

    def clear(self) -> list[CacheEntry]:
        """Drop every entry; return them."""
        entries = list(self._entries.values())
        self._entries.clear()
        self._bytes = 0
        return entries
