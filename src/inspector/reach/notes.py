"""What the patches of :mod:`.hooks` keep of what they hear: the kinds, the :class:`Note`
of a start or a window, a start as the patch queues it (:data:`Start`), and who started it.

Imports only the standard library, like :mod:`.hooks`: both load before the program runs.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

THREAD = "thread"
TIMER = "timer"
WINDOW = "window"
CLOSED = "closed"
#: The names of a method's first parameter: its receiver.
_RECEIVERS = ("self", "cls")


class Note:
    """What a patch heard: a start or a window, where, and by whose method.

    Made inside the program's call, so it keeps only what must be read then (the caller's
    code and line, the object whose method it was); the site's text is made when the tracker
    first reads it.
    """

    __slots__ = ("_site", "code", "creator", "creator_class", "kind", "lasti", "line", "ref",
                 "time")

    def __init__(self, kind: str, ref: Callable[[], object], code: CodeType | None, line: int,
                 creator: Callable[[], object] | None, creator_class: str) -> None:
        self.kind = kind
        self.ref = ref
        self.code = code
        self.line = line
        self.creator = creator
        self.creator_class = creator_class
        self.time = time.monotonic()
        self.lasti = -1
        self._site: str | None = None

    @classmethod
    def of_start(cls, start: Start) -> Note:
        """The note of a start the patch kept as a :data:`Start` tuple (its line is found
        when its site is first read)."""
        kind, ref, code, lasti, creator, creator_class, when = start
        note = cls(kind, ref, code, -1, creator, creator_class)
        note.lasti = lasti
        note.time = when
        return note

    @property
    def site(self) -> str:
        """Where it was heard: ``"function (file:line)"`` ("" when no frame was given)."""
        site = self._site
        if site is None:
            code = self.code
            if code is None:
                site = ""
            else:
                line = self.line if self.line >= 0 else _line(code, self.lasti)
                site = f"{code.co_name} ({code.co_filename}:{line})"
            self._site = site
        return site


Sink = Callable[[Note], None]
#: A QThread or QTimer start as the patch keeps it, inside the program's call: (kind, weak
#: reference, the caller's code, its instruction offset, the weak reference and class name
#: of the object whose method started it, monotonic time). The tracker makes the rest.
Start = tuple[str, Callable[[], object], CodeType, int, Callable[[], object] | None, str, float]


def _line(code: CodeType, lasti: int) -> int:
    """The line of instruction offset ``lasti`` in ``code``."""
    line = code.co_firstlineno
    for start, end, lineno in code.co_lines():
        if start <= lasti < end:
            return lineno if lineno is not None else line
    return line


def make_note(kind: str, obj: object, frame: FrameType | None) -> Note:
    """The note of ``obj`` heard at ``frame``: the caller's code and line, and the object
    whose method it is (a method of ``obj`` itself looks one caller further)."""
    if frame is None:
        return Note(kind, weakref.ref(obj), None, 0, None, "")
    creator, creator_class = starter(obj, frame)
    return Note(kind, weakref.ref(obj), frame.f_code, frame.f_lineno, creator, creator_class)


def starter(obj: object, frame: FrameType) -> tuple[Callable[[], object] | None, str]:
    """The object whose method started ``obj`` at ``frame`` (a method of ``obj`` itself
    looks one caller further), weakly, and its class's name; else the module's name.

    Inside the program's call to ``start()`` (docs/architecture.md, "Measured facts"): the
    common case, a method of another object, is one look at one frame.
    """
    f: FrameType | None = frame
    for _ in range(4):
        if f is None:
            break
        code = f.f_code
        if not code.co_argcount or code.co_varnames[0] not in _RECEIVERS:
            break
        candidate = f.f_locals.get(code.co_varnames[0])
        if candidate is not None and candidate is not obj:
            name = (candidate.__name__ if isinstance(candidate, type)
                    else type(candidate).__name__)
            try:
                return weakref.ref(candidate), name
            except TypeError:  # not weakly referenceable: its class is all we keep
                return None, name
        f = f.f_back
    return None, _module_owner(frame.f_globals)


def _module_owner(globals_: dict[str, Any]) -> str:
    name = str(globals_.get("__name__", "") or "")
    if name == "__main__":
        path = str(globals_.get("__file__", "") or "")
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return stem or "__main__"
    return name or "?"
