"""The selected leak suspect's `why`: what keeps it alive, worked out off the GUI thread.

Answering `why` walks the application's heap (for up to 2 s), so it runs on a thread of its
own and the answer comes back to the GUI thread through a queued signal; an answer for a
suspect that is no longer the one asked about is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from inspector.metrics.snapshot import WhyResult
from inspector.metrics.text import safe

#: What answers `why` for a resource id (``MetricsModel.why``).
WhySource = Callable[[str], WhyResult]

PROMPT = "Select a suspect to see what keeps it alive."


def format_why(result: WhyResult) -> str:
    """A ``why`` chain as plain text lines, root first, every name escaped."""
    lines = [f"What keeps {safe(result.resource_id)} alive, root first"
             + ("" if result.complete else " (no root reached: the longest chain found)")
             + ":"]
    for n, link in enumerate(result.chain, start=1):
        where = f"   at {safe(link.site)}" if link.site else ""
        lines.append(f"{n}. {safe(link.kind)}: {safe(link.name)}{where}")
    return "\n".join(lines)


class WhyLabel(QLabel):
    """Shows the `why` of the resource last asked about (``ask``), as selectable plain
    text; ``source`` answers it (None: nothing can)."""

    #: An answer (resource id, text) coming back from its thread (queued to the GUI).
    _ready = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)  # names come from the app
        self.setText(PROMPT)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.source: WhySource | None = None
        self._asked = ""
        self._ready.connect(self._show)

    def ask(self, rid: str) -> None:
        """Work out what keeps ``rid`` alive, and show it when the answer comes back."""
        source = self.source
        if not rid or source is None:
            self.setText("No resource to explain." if source is not None
                         else "Why it is alive is shown for a live application.")
            return
        self._asked = rid
        self.setText(f"Working out what keeps {safe(rid)} alive...")
        ready = self._ready

        def work() -> None:  # never on the GUI thread: it walks the heap
            try:
                text = format_why(source(rid))
            except LookupError:
                text = f"{safe(rid)} is gone."
            # shown, not raised into a thread nobody watches
            except Exception as exc:  # noqa: BLE001
                text = f"why {safe(rid)} failed: {type(exc).__name__}: {safe(str(exc))}"
            ready.emit(rid, text)

        threading.Thread(target=work, name="resinspect-why", daemon=True).start()

    def _show(self, rid: str, text: str) -> None:
        if rid == self._asked:
            self.setText(text)
