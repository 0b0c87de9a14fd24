"""Creation sites: where a resource was tracked, kept cheap on the hot path.

A track records the caller's code object and instruction offset (two slots, no string);
the ``"function (file:line)"`` text is made when somebody reads it, and cached per code
object and offset (docs/architecture.md, "Measured facts").
"""

from __future__ import annotations

import os
from types import CodeType

from .records import Record


def _internal_files() -> frozenset[str]:
    """The source files of the inspector package that sit between an application's call
    and the store (service, coordinators, controllers, ...): a creation site skips them.

    The demo is an application built on the package, so its files are sites like any
    other. A set of exact file names, made once: the hot path tests one frame with one hash
    lookup (the name's hash is cached on the string) instead of a prefix test per frame.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    demo = os.path.join(root, "demo")
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        if folder == demo or folder.startswith(demo + os.sep):
            dirs[:] = []
            continue
        found.update(os.path.join(folder, f) for f in files if f.endswith(".py"))
    return frozenset(found)


INTERNAL = _internal_files()

#: Offsets below this come from one shared table of ints (112 KiB, made at import): a new
#: int per record would cost 28 bytes.
OFFSET_LIMIT = 4096
OFFSETS = list(range(OFFSET_LIMIT))

#: ``id(code) + offset -> (code, offset, "function (file:line)")``, made when first read.
SITE_TEXT: dict[int, tuple[CodeType, int, str]] = {}
SITE_LIMIT = 100_000


def format_site(code: CodeType, lasti: int) -> str:
    """``"function (file:line)"`` for instruction offset ``lasti`` of ``code``."""
    line = code.co_firstlineno
    for start, end, lineno in code.co_lines():
        if start <= lasti < end:
            if lineno is not None:
                line = lineno
            break
    return f"{code.co_qualname} ({code.co_filename}:{line})"


def site_of(rec: Record) -> str:
    """A record's creation site as ``"function (file:line)"`` ("" when none)."""
    try:
        site: CodeType | str | None = rec.site
    except AttributeError:  # sites were off when it was tracked
        return ""
    if site is None or isinstance(site, str):
        return site or ""
    # Keyed by address plus offset (hashing a code object costs 0.2 us): two codes less
    # than an offset apart may share a key, so a hit is checked and a clash not cached.
    key = id(site) + rec.lasti
    known = SITE_TEXT.get(key)
    if known is not None and known[0] is site and known[1] == rec.lasti:
        return known[2]
    text = format_site(site, rec.lasti)
    if known is None:
        if len(SITE_TEXT) >= SITE_LIMIT:  # code made by exec() in a loop: stay bounded
            SITE_TEXT.clear()
        # The code is kept with its text, so its address names no other code meanwhile.
        SITE_TEXT[key] = (site, rec.lasti, text)
    return text
