"""Names for what a chain passes through: callables and their sites, keys, attributes,
Qt objects."""

from __future__ import annotations

import linecache
import re
import sys
import types
from collections.abc import Callable
from functools import partial
from typing import Any

_CONNECT = re.compile(r"\.(\w+)\.connect\s*\(")
CALLABLES = (types.FunctionType, types.MethodType, partial, types.BuiltinMethodType)


def callable_info(obj: object) -> tuple[str, str, str]:
    """``(name, definition site, signal named on that line or "")`` of a callable."""
    fn: Any = obj
    prefix = ""
    if isinstance(obj, partial):
        prefix, fn = "functools.partial of ", obj.func
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    code = getattr(fn, "__code__", None)
    if code is None:
        return prefix + getattr(fn, "__qualname__", type(fn).__name__), "", ""
    line = code.co_firstlineno
    site = f"{code.co_qualname} ({code.co_filename}:{line})"
    # Read off the GUI thread, on request only: the line that defined a lambda usually
    # connects it too (`self.sig.connect(lambda: ...)`).
    source = linecache.getline(code.co_filename, line)
    found = _CONNECT.search(source)
    return prefix + code.co_qualname, site, found.group(1) if found else ""


MISSING = object()


def key_of(mapping: object, value: object) -> Any:
    if not isinstance(mapping, dict):
        return MISSING
    for key, v in list(mapping.items()):
        if v is value:
            return key
    return MISSING


def instance_dict(holder: object, d: dict[Any, Any]) -> bool:
    try:
        return object.__getattribute__(holder, "__dict__") is d
    except (AttributeError, TypeError):
        return False


def attribute_of(holder: object, held: object) -> str:
    try:
        attrs = object.__getattribute__(holder, "__dict__")
    except (AttributeError, TypeError):
        attrs = {}
    for key, value in list(attrs.items()):
        if value is held:
            return str(key)
    for cls in type(holder).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            try:
                if object.__getattribute__(holder, slot) is held:
                    return str(slot)
            except (AttributeError, TypeError):
                continue
    return ""


def qt_parent(obj: object) -> object:
    parent: Callable[[], object] | None = None
    qobject = sys.modules.get("PySide6.QtCore")
    if qobject is None or not isinstance(obj, qobject.QObject):
        return None
    try:
        parent = obj.parent
        return parent()
    except RuntimeError:  # its C++ object is gone
        return None


def describe_object(obj: object) -> str:
    """A short name for ``obj``: its class, with a Qt object's name where it has one."""
    name = type(obj).__qualname__
    get = getattr(obj, "objectName", None)
    if not callable(get):
        return name
    try:
        text = get()
    except RuntimeError:  # a wrapper whose C++ object is gone
        return f"{name} (deleted)"
    return f"{name} {text!r}" if isinstance(text, str) and text else name
