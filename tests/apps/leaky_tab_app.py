"""A real PySide6 window whose closed tab leaks: a lambda connected to a long-lived signal
keeps it, the classic Qt leak that ``resinspect why`` must explain.

A ``QTabWidget`` holds one ``ResultsTab`` per opened tab; each tab's ``TabController`` tracks
the tab as a WIDGET resource named ``results``. Opening a tab also connects
``SETTINGS.theme_changed`` (an application-wide object) to a lambda that captures the tab and
is never disconnected. The app opens two tabs, closes the first one the ordinary way (removed,
unparented, its controller cleaned up), prints ``READY <pid>`` and ``LEAKED <resource id>``,
and runs until killed or for ``--seconds N``. It also keeps a ``Thumbnail`` resource in the
module list ``_SEEN`` after its owner's cleanup: ``LEAKED_GLOBAL <resource id>``.

    python tests/apps/leaky_tab_app.py [--seconds N]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QTabWidget, QWidget

from inspector.attach import attach
from inspector.resources import BaseResourceCoordinator, ResourceType

_SEEN: list[object] = []


class Settings(QObject):
    """Application-wide settings: lives as long as the application."""

    theme_changed = Signal()


SETTINGS = Settings()


class Thumbnail:
    def __init__(self) -> None:
        self.pixels = bytearray(64)


class ResultsTab(QWidget):
    def apply_theme(self) -> None:
        self.update()


class TabController(QObject):
    """Owns one tab's resources."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.resources = BaseResourceCoordinator(f"TabController#{n}").bind_to_component(self)


def open_tab(tabs: QTabWidget, n: int) -> tuple[ResultsTab, TabController, str]:
    tab = ResultsTab()
    controller = TabController(n)
    rid = controller.resources.track(tab, ResourceType.WIDGET, name="results").resource_id
    SETTINGS.theme_changed.connect(lambda: tab.apply_theme())  # noqa: PLW0108 (the leak)
    tabs.addTab(tab, f"results {n}")
    return tab, controller, rid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="quit after N seconds")
    args = parser.parse_args()

    app = QApplication(sys.argv)
    window = QMainWindow()
    tabs = QTabWidget()
    window.setCentralWidget(tabs)
    handle = attach(name="leaky-tab", dock=False)

    first, first_controller, leaked = open_tab(tabs, 1)
    second = open_tab(tabs, 2)
    thumb_owner = TabController(3)
    thumb = Thumbnail()
    _SEEN.append(thumb)
    kept = thumb_owner.resources.track(thumb, ResourceType.THUMBNAIL).resource_id

    # Closing the first tab the ordinary way: out of the widget, unparented, cleaned up.
    tabs.removeTab(tabs.indexOf(first))
    first.setParent(None)
    assert handle.service is not None
    handle.service.cleanup_component(first_controller)
    handle.service.cleanup_component(thumb_owner)
    del first, first_controller, thumb

    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    pulse = QTimer()
    pulse.timeout.connect(lambda: None)
    pulse.start(100)

    def ready() -> None:
        print(f"READY {os.getpid()}", flush=True)
        print(f"LEAKED {leaked}", flush=True)
        print(f"LEAKED_GLOBAL {kept}", flush=True)

    QTimer.singleShot(0, ready)
    if args.seconds is not None:
        QTimer.singleShot(int(args.seconds * 1000), app.quit)
    window.show()
    code = app.exec()
    handle.close()
    del second
    return code


if __name__ == "__main__":
    sys.exit(main())
