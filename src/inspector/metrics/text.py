"""Names from the application are untrusted text: one sanitiser for every text output.

Component ids, app names, resource names and sites come from the inspected program (or from a
recording someone sent). Printed raw, an ``ESC]0;`` sequence retitles the terminal, ``ESC[2J``
clears it, a newline forges a table row and U+202E reverses what follows. :func:`safe` shows
every control, bidi and non-printable character escaped (``\\x1b``, ``\\u202e``), so text
outputs (tables, status lines, errors) show exactly what the name holds; JSON keeps names exact.
:func:`csv_cell` also neutralises spreadsheet formulas. Qt-free: the CLI imports it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

#: Unicode bidi controls: embeddings, overrides, isolates and marks.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: What a spreadsheet reads as the start of a formula (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _unsafe(ch: str) -> bool:
    if ch in _BIDI or ch == "\\":
        return True
    # Cc control, Cf format (zero-width joiners...), Cs surrogates (undecodable bytes kept by
    # surrogateescape), Co private use, Cn unassigned, Zl/Zp line and paragraph separators.
    return unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def safe(text: object) -> str:
    """``text`` with control, bidi and non-printable characters shown escaped.

    A backslash is doubled only when the text needed escaping, so ordinary Windows-style
    paths read as they are while an escaped name can't be forged with a literal ``\\x1b``.
    """
    s = text if isinstance(text, str) else str(text)
    if s.isprintable() and not any(ch in _BIDI for ch in s):
        return s
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in s)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis: for display only, never JSON."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def encodable(text: str) -> str:
    """``text`` as UTF-8 (and so JSON) can carry it: itself whenever it can be.

    Undecodable bytes that Python keeps as lone surrogates (``os.fsdecode(b"\\xff")``, the
    name of a script whose file name is not UTF-8) are shown as ``\\xff``; any other lone
    surrogate by its code (``\\ud800``). Every other character is kept exactly.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
        return raw.decode("utf-8", "backslashreplace")
    return text


def encodable_tree(value: Any, depth: int = 0) -> Any:
    """``value`` (JSON-ready builtins: dicts, lists, strings, numbers) with every string,
    keys too, made :func:`encodable`. Nesting past 64 levels is cut (``None``)."""
    if isinstance(value, str):
        return encodable(value)
    if depth > 64:
        return None
    if isinstance(value, dict):
        return {encodable(str(k)): encodable_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable_tree(v, depth + 1) for v in value]
    return value


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula; numbers stay numbers.

    Text starting with ``= + - @``, a tab or a CR gets a leading apostrophe (OWASP's advice), so
    ``=cmd|"/c calc"!A1`` is shown, not run.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value
