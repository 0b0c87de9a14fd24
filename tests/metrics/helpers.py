"""What the metrics tests share: turning a real event loop until something holds."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication


def pump(until: Callable[[], bool], timeout: float) -> None:
    """Run the application's event loop until ``until()`` holds or ``timeout`` passes."""
    app = QCoreApplication.instance()
    assert app is not None
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)
