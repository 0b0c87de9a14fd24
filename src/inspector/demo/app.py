"""``resinspect demo``: the evidence workbench with the inspector docked, or its headless tour.

With a display, the window opens with the panel docked and the socket serving; it runs
until closed (or, with ``seconds``, runs the scripted tour and quits). Without one, or with
``headless``, the same application runs offscreen through the scripted tour, then prints a
``top`` frame of itself and what it did, and leaves screenshots in a directory.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .screenshots import TopRenderer

#: Seconds of the scripted tour when none are given.
DEFAULT_SECONDS = 8.0

log = logging.getLogger("inspector.demo")


def has_display() -> bool:
    """Whether a window can be shown: a display server, and no offscreen platform forced."""
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(
    *,
    headless: bool = False,
    seconds: float | None = None,
    screenshots: Path | None = None,
    serve: bool = True,
    out: TextIO | None = None,
    top: TopRenderer | None = None,
) -> int:
    """Run the demo; return the exit status.

    ``headless`` (implied without a display) runs the tour offscreen for ``seconds``
    (default :data:`DEFAULT_SECONDS`) and writes screenshots into ``screenshots`` (default:
    a new temporary directory). With a display, ``seconds`` runs the same tour on screen.
    ``serve`` starts the socket server so ``resinspect top --pid`` can watch the demo.
    ``top`` draws the ``top`` frame of the summary and screenshots (the command line passes
    its renderers; without them neither is made).
    """
    out = out if out is not None else sys.stdout
    if headless or not has_display():
        headless = True
        # Before any QApplication exists: the platform is chosen once, at its creation. An
        # offscreen platform given with options (a screen's size) is kept.
        if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] != "offscreen":
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] or "resinspect-demo"])
    assert isinstance(app, QApplication)
    app.setApplicationName("resinspect-demo")
    tour = seconds if seconds is not None else (DEFAULT_SECONDS if headless else None)
    shots = screenshots
    if headless and shots is None:
        shots = default_screenshots_dir()
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    with _demo_logging(shots if headless else None):
        return _run(app, headless=headless, tour=tour, shots=shots, serve=serve, out=out,
                    top=top)


def default_screenshots_dir() -> Path:
    """Where a headless demo leaves its screenshots unless told: one folder, overwritten each run
    (``$XDG_CACHE_HOME/resinspect/demo``, else ``~/.cache/resinspect/demo``)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "resinspect" / "demo"


def _run(app: object, *, headless: bool, tour: float | None, shots: Path | None,
         serve: bool, out: TextIO, top: TopRenderer | None) -> int:
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    from inspector.resources import IResourceManagementService, get_service

    from .dataset import Dataset
    from .instrument import instrument
    from .window import DEFAULT_IO_DELAY_S, DemoWindow
    from .workload import ScriptedWorkload, io_delay_for

    assert isinstance(app, QApplication)
    service = get_service(IResourceManagementService)
    with Dataset.create() as dataset:
        delay = io_delay_for(tour, dataset) if tour is not None else DEFAULT_IO_DELAY_S
        window = DemoWindow(dataset, service=service, io_delay_s=delay)
        inst = instrument(service, window, serve=serve)
        window.resize(1500, 900)
        window.show()
        pid = os.getpid()
        mode = "headless (offscreen)" if headless else "on screen"
        print(f"resinspect demo: pid {pid}, {mode}", file=out)
        if inst.server is not None:
            print(f"watch it live: resinspect top --pid {pid}   (socket {inst.server.path})",
                  file=out)
        out.flush()
        try:
            if tour is None:
                app.exec()
                return 0
            workload = ScriptedWorkload(window, inst, tour, shots, top)
            report = workload.run()
            from .summary import print_summary

            print_summary(report, dataset, shots, out, top)
            return 0
        finally:
            window.shutdown()
            inst.close()
            window.hide()
            window.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            QApplication.processEvents()


@contextmanager
def _demo_logging(directory: Path | None) -> Iterator[None]:
    """Headless: the library's and the demo's log go to ``demo.log`` (the planted defects
    log tracebacks on purpose; the terminal gets the summary). Otherwise warnings go to
    stderr as usual."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    logger = logging.getLogger("inspector")
    if directory is None:
        yield
        return
    handler = logging.FileHandler(directory / "demo.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    qt_log = logging.getLogger("inspector.demo.qt")

    def from_qt(mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
        # The offscreen platform's notes ("does not support propagateSizeHints()") are
        # noise on a terminal; they stay in the log.
        level = logging.DEBUG if mode == QtMsgType.QtDebugMsg else logging.WARNING
        qt_log.log(level, "Qt: %s", message)

    previous = qInstallMessageHandler(from_qt)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)
        logger.removeHandler(handler)
        logger.propagate, logger.level = saved
        handler.close()


if __name__ == "__main__":
    raise SystemExit(main(headless="--headless" in sys.argv))
