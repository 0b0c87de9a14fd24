"""Numbers for people: bytes, durations and milliseconds, one rule for every output.

The dock, ``top``, ``diff`` and budget reports all format through here, so 1,048,575 bytes
reads the same everywhere (``1.0 MiB``). Qt-free: the CLI imports it.
"""

from __future__ import annotations

_BYTE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(n: float) -> str:
    """``512 B``, ``2.9 KiB``, ``12.0 MiB``: binary units, one decimal, never SI prefixes."""
    if abs(n) < 1024:
        return f"{int(n)} B"
    value = float(n)
    for unit in _BYTE_UNITS:
        value /= 1024
        # Carry on when rounding would print "1024.0 KiB".
        if abs(round(value, 1)) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h03m``, ``4d05h``: two units at most."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_age(seconds: float) -> str:
    """Like :func:`format_duration`, with a tenth of a second under ten seconds (``4.2s``)."""
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.1f}s"
    return format_duration(seconds)


def format_ms(ms: float) -> str:
    """``0 ms``, ``120 ms``, ``3.2 s``."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"
