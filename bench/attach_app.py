"""The application ``bench_attach.py`` measures: a small editor at its default 800x600 size.

Run as ``python bench/attach_app.py MODE SECONDS``; MODE is ``bare`` (no resinspect),
``nodock`` (``attach(dock=False)``), ``docked`` (``attach(window)``) or ``hidden``
(``attach(window, dock="hidden")``, the panel shown through its toggle action after
SECONDS). It prints one JSON line of what it saw, then quits.

Like a real application it has a menu with shortcuts, a status bar, a text editor as its
central widget, a signal connected to a slot and a timer.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from typing import Literal  # noqa: E402

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot  # noqa: E402
from PySide6.QtGui import QAction, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit  # noqa: E402


def rss() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * 4096


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Counter(QObject):
    changed = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    @Slot()
    def bump(self) -> None:
        self.n += 1
        self.changed.emit(self.n)


def main() -> int:
    mode, seconds = sys.argv[1], float(sys.argv[2])
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("editor")
    editor = QPlainTextEdit(window)
    editor.setPlainText("hello\n" * 40)
    editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    window.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
    window.setCentralWidget(editor)
    menu = window.menuBar().addMenu("&File")
    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(app.quit)
    menu.addAction(quit_action)
    counter = Counter()
    counter.changed.connect(lambda n: window.statusBar().showMessage(f"{n} changes"))
    editor.textChanged.connect(counter.bump)
    autosave = QTimer(window)
    autosave.start(5000)
    window.resize(800, 600)
    out: dict[str, object] = {"mode": mode}

    handle = None
    rss_before = rss()
    cpu_before = cpu()  # the same point in every mode: what follows is attach's doing
    wall_before = time.perf_counter()
    if mode != "bare":
        from inspector import attach

        docks: dict[str, bool | Literal["hidden"]] = {"nodock": False, "docked": True,
                                                      "hidden": "hidden"}
        handle = attach(window, name="bench-editor", dock=docks[mode])
    out["attach_ms"] = round((time.perf_counter() - T0) * 1000, 1)
    out["attach_rss"] = rss() - rss_before
    window.show()

    def first_turn() -> None:
        out["first_turn_ms"] = round((time.perf_counter() - T0) * 1000, 1)
        # CPU time to the first turn: the same question, far less disturbed by other load.
        out["first_turn_cpu_ms"] = round(cpu() * 1000, 1)
        # From the point where attach() is called (or would be) to the first turn: the
        # interpreter's and PySide's start-up, the noisiest part, left out.
        out["attach_to_first_turn_cpu_ms"] = round((cpu() - cpu_before) * 1000, 1)
        out["attach_to_first_turn_ms"] = round((time.perf_counter() - wall_before) * 1000, 1)

    QTimer.singleShot(0, first_turn)

    def settled() -> None:
        # The panel (if shown) has built itself by now; the CPU window starts here.
        out["rss_settled"] = rss()
        out["pyqtgraph"] = "pyqtgraph" in sys.modules
        out["numpy"] = "numpy" in sys.modules
        out["central"] = [editor.width(), editor.height()]
        out["window"] = [window.width(), window.height()]
        panel = handle.dock if handle is not None else None
        out["panel_built"] = bool(panel is not None and panel.built)
        out["refreshes_before"] = panel.refresh_count if panel is not None else 0
        state["cpu0"] = cpu()
        state["t0"] = time.perf_counter()

    def measured() -> None:
        elapsed = time.perf_counter() - state["t0"]
        out["cpu_percent"] = round(100 * (cpu() - state["cpu0"]) / elapsed, 3)
        panel = handle.dock if handle is not None else None
        out["refreshes"] = (panel.refresh_count if panel is not None else 0) - int(
            out["refreshes_before"])  # type: ignore[call-overload]
        if mode == "hidden" and panel is not None and panel.placement is not None:
            before = rss()
            panel.placement.action.trigger()  # what Ctrl+Shift+I does
            QTimer.singleShot(3000, lambda: shown(before))
        else:
            finish()

    def shown(before: int) -> None:
        panel = handle.dock if handle is not None else None
        out["after_show"] = {
            "pyqtgraph": "pyqtgraph" in sys.modules,
            "panel_built": bool(panel is not None and panel.built),
            "rss_growth": rss() - before,
            "central": [editor.width(), editor.height()],
        }
        finish()

    def finish() -> None:
        print(json.dumps(out), flush=True)
        app.quit()

    state: dict[str, float] = {}
    QTimer.singleShot(2500, settled)
    QTimer.singleShot(int(2500 + seconds * 1000), measured)
    code = app.exec()
    if handle is not None:
        handle.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
