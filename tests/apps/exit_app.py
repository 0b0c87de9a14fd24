"""A real application that tracks resources and exits in the way argv[1] names.

    python tests/apps/exit_app.py MODE [OWNER]

It prints ``CLEANUP`` from its cleanup callback, so the test can count how many times the
owner's cleanup ran: exactly once, whatever the way out. OWNER is how the owner ends:
``registered`` (alive until exit: the service's exit cleanup runs it), ``collected`` (garbage
collected first) or ``coordinator`` (collected with the coordinator it holds, whose resource
cleanup prints). A collected owner's cleanup is deferred to the event loop: in ``normal`` and
``sys_exit`` the loop never turns, so only the exit can run it; in ``last_window_closed`` the
loop runs it (``LOOP_ENDED`` follows it); in ``quit`` the owner goes in the loop's last call,
just before ``quit()``, so the loop and the exit race for it.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from inspector.resources import (
    BaseResourceCoordinator,
    IResourceManagementService,
    ResourceType,
    get_service,
)


class Owner:
    me: Any
    coord: BaseResourceCoordinator


class Thing:
    pass


KEPT = Thing()  # the coordinator's resource: alive, so its cleanup has something to clean
owners: list[Owner] = []


def make_owner(kind: str, service: IResourceManagementService) -> None:
    owner = Owner()
    if kind == "coordinator":
        # Dropped by reference count: the coordinator's __del__ runs as the owner goes. (Not
        # in a cycle: CPython clears the weak references inside collected garbage before any
        # finaliser runs, the coordinator's handles to its resources among them.)
        owner.coord = BaseResourceCoordinator("ExitCoord", service).bind_to_component(owner)
        owner.coord.track(KEPT, cleanup=lambda _: print("CLEANUP", flush=True))
    else:
        service.register_component(owner, "ExitOwner")
        service.register_cleanup(owner, lambda: print("CLEANUP", flush=True))
        service.track_resource(owner, ResourceType.CUSTOM, [1, 2, 3])
        owner.me = owner  # a cycle: only the collector frees it
    owners.append(owner)


def drop(kind: str) -> None:
    """Let the owner go (unless it stays registered until exit) and collect it."""
    if kind != "registered":
        owners.clear()
        gc.collect()
        print("COLLECTED", flush=True)


def main(mode: str, kind: str) -> int:
    app = QApplication(sys.argv[:1])
    service = get_service(IResourceManagementService)
    make_owner(kind, service)
    window = QWidget()
    window.show()
    if mode == "normal":  # the script simply ends: interpreter exit runs the cleanup
        drop(kind)
        return 0
    if mode == "sys_exit":
        drop(kind)
        sys.exit(0)
    if mode == "last_window_closed":
        drop(kind)
        QTimer.singleShot(50, window.close)
        code = app.exec()
        print("LOOP_ENDED", flush=True)
        return code
    if mode == "quit":
        def last_call() -> None:
            drop(kind)
            app.quit()

        QTimer.singleShot(50, last_call)
        return app.exec()
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    code = main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "registered")
    sys.exit(code)
