"""Pixel checks on offscreen grabs."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget


def pixels(widget: QWidget) -> np.ndarray:
    """The widget as rendered now, as an (h, w, 3) uint8 RGB array."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride)
    return buf.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def distinct_colours(widget: QWidget) -> int:
    """How many different colours the widget's rendering uses."""
    rgb = pixels(widget).astype(np.uint32)
    return len(np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]))


def count_near(widget: QWidget, colour: str, tolerance: int = 40) -> int:
    """Pixels within ``tolerance`` (per channel) of ``colour``."""
    c = QColor(colour)
    target = np.array([c.red(), c.green(), c.blue()], dtype=np.int16)
    diff = np.abs(pixels(widget).astype(np.int16) - target)
    return int(np.count_nonzero((diff <= tolerance).all(axis=-1)))


def reddish(widget: QWidget) -> int:
    """Pixels that are clearly red (text drawn in the blocked colour)."""
    rgb = pixels(widget).astype(np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(np.count_nonzero((r > 150) & (r - g > 80) & (r - b > 80)))
