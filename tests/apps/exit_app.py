"""A real application that tracks resources and exits in the way argv[1] names.

It prints ``CLEANUP`` from its cleanup callback, so the test can count how many times the
service's exit-time cleanup ran: exactly once, whatever the way out.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from inspector.resources import (
    IResourceManagementService,
    ResourceType,
    get_service,
)


class Owner:
    pass


def main(mode: str) -> int:
    app = QApplication(sys.argv[:1])
    service = get_service(IResourceManagementService)
    owner = Owner()
    service.register_component(owner, "ExitOwner")
    service.register_cleanup(owner, lambda: print("CLEANUP", flush=True))
    service.track_resource(owner, ResourceType.CUSTOM, [1, 2, 3])
    window = QWidget()
    window.show()
    if mode == "normal":  # the script simply ends: interpreter exit runs the cleanup
        return 0
    if mode == "sys_exit":
        sys.exit(0)
    if mode == "last_window_closed":
        QTimer.singleShot(50, window.close)
        return app.exec()
    if mode == "quit":
        QTimer.singleShot(50, app.quit)
        return app.exec()
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    code = main(sys.argv[1])
    sys.exit(code)
