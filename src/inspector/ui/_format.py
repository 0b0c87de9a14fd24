"""Human-readable numbers for labels and table cells: the shared units, under the dock's names."""

from __future__ import annotations

from inspector.metrics.units import format_age, format_bytes

__all__ = ["format_age", "format_bytes"]
