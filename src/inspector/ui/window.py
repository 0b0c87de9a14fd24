"""The dock in a window of its own, for ``resinspect view``: a live app or a recording."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

from .dock import InspectorDock
from .source import MetricsSource


def open_viewer(source: MetricsSource, title: str, *, seconds: float | None = None,
                screenshot: Path | None = None) -> int:
    """Show ``source`` in an :class:`InspectorDock` inside its own window until closed.

    ``seconds`` closes it after a while and ``screenshot`` saves a picture of it first (both
    for scripted and headless runs). Returns the event loop's exit status.
    """
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication(["resinspect view"])
    window = QMainWindow()
    window.setWindowTitle(title)
    dock = InspectorDock(source, window)
    dock.setFeatures(dock.features() & ~InspectorDock.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.resize(1200, 800)
    window.show()
    dock.refresh()
    if seconds is not None:
        def finish() -> None:
            dock.refresh()
            if screenshot is not None:
                window.grab().save(str(screenshot))
            window.close()

        QTimer.singleShot(int(seconds * 1000), finish)
    status = int(app.exec())
    dock.set_source(None)
    return status
