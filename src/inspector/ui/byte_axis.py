"""``ByteAxis``: a pyqtgraph axis of bytes in binary units."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

from inspector.metrics.units import format_bytes

#: Binary steps for byte axes: 1, 2, 4, 8 … of a unit, then the next unit.
_BYTE_STEPS = tuple(2 ** k for k in range(0, 64))
#: Pixels wanted between two ticks of a byte axis.
_TICK_PX = 40


class ByteAxis(pg.AxisItem):  # type: ignore[misc]
    """An axis of bytes: ticks at powers of two, labelled ``512 B``, ``1.5 MiB``, ``2.0 GiB``
    (the shared units; never SI prefixes on bytes), and nothing below zero."""

    def __init__(self, orientation: str, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal: float, maxVal: float, size: float
                    ) -> list[tuple[float, float]]:
        """Power-of-two spacing, about one tick per ``_TICK_PX`` pixels."""
        span = max(1.0, float(maxVal) - float(minVal))
        wanted = max(2, int(size / _TICK_PX)) if size > 0 else 4
        target = span / wanted
        major = next((step for step in _BYTE_STEPS if step >= target), _BYTE_STEPS[-1])
        return [(float(major), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float
                    ) -> list[str]:
        """``format_bytes`` of each value; blank below zero."""
        return [format_bytes(v * scale) if v >= 0 else "" for v in values]
