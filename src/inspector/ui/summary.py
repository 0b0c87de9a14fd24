"""The summary strip: the snapshot's headline numbers, the lag in red while frozen."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from inspector.metrics.snapshot import Snapshot
from inspector.metrics.units import format_age, format_bytes

from .labels import plain_label, plain_tooltip

#: The colour of the lag while the event loop is blocked.
BLOCKED_COLOUR = QColor("#e53935")

_ORDER = ("app", "resources", "tracked", "rss", "workers", "cache", "lag")
#: Two columns: the panel sits beside a window, a few hundred pixels wide.
_COLUMNS = 2


class SummaryStrip(QWidget):
    """Labels for: app, live/created/destroyed, tracked and RSS bytes with peaks, active
    workers, cache bytes and entries, event-loop lag.

    ``labels`` maps each of those names to its ``QLabel``; ``blocked`` is True while the
    shown snapshot says the application's event loop is blocked.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setHorizontalSpacing(16)
        layout.setVerticalSpacing(2)
        self.labels: dict[str, QLabel] = {}
        for i, name in enumerate(_ORDER):
            label = plain_label("-", self)  # the app's name is the app's text
            label.setObjectName(f"summary_{name}")
            # A long app name must not set the panel's minimum width (and so take room
            # from the host's central widget): the text is cut, the tooltip has it whole.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            layout.addWidget(label, i // _COLUMNS, i % _COLUMNS)
            self.labels[name] = label
        self.blocked = False
        self._normal_palette = QPalette(self.labels["lag"].palette())
        self._blocked_palette = QPalette(self._normal_palette)
        self._blocked_palette.setColor(QPalette.ColorRole.WindowText, BLOCKED_COLOUR)
        font = self.labels["lag"].font()
        self._normal_font = font
        self._bold_font = QFont(font)
        self._bold_font.setBold(True)

    def set_snapshot(self, s: Snapshot) -> None:
        """Show ``s``; labels whose text is unchanged are not touched."""
        self._set("app", f"{s.app} (pid {s.pid}) · up {format_age(s.uptime_s)}")
        self._set(
            "resources",
            f"live {s.live_resources} · created {s.created_total} · "
            f"destroyed {s.destroyed_total}",
        )
        self._set(
            "tracked",
            f"tracked {format_bytes(s.tracked_bytes)} "
            f"(peak {format_bytes(s.peak_tracked_bytes)})",
        )
        self._set("rss", f"RSS {format_bytes(s.rss_bytes)} (peak {format_bytes(s.peak_rss_bytes)})")
        self._set("workers", f"workers {s.active_workers}")
        self._set("cache", f"cache {format_bytes(s.cache_bytes)} in {s.cache_entries} entries")
        lag = f"lag {s.event_loop_lag_ms:.0f} ms"
        self._set("lag", f"{lag} — BLOCKED" if s.blocked else lag)
        self._set_blocked(s.blocked, s.gui_stack, s.lag_threshold_ms)

    def clear(self) -> None:
        """Back to placeholders (no source, or a new one)."""
        for label in self.labels.values():
            label.setText("-")
        self._set_blocked(False, [], 0.0)

    def _set(self, name: str, text: str) -> None:
        label = self.labels[name]
        if label.text() != text:
            label.setText(text)
            if name != "lag":  # the lag's tooltip explains the lag
                label.setToolTip(plain_tooltip(text))

    def _set_blocked(self, blocked: bool, stack: list[str], threshold_ms: float) -> None:
        label = self.labels["lag"]
        if blocked:
            # Innermost frame last, as in a traceback: where the GUI thread is stuck.
            tip = "Event loop blocked. GUI thread stack:\n" + "\n".join(stack[-15:])
        else:
            tip = f"Event-loop lag; blocked above {threshold_ms:.0f} ms"
        tip = plain_tooltip(tip)  # the stack names the app's files and functions
        if label.toolTip() != tip:
            label.setToolTip(tip)
        if blocked == self.blocked:
            return
        self.blocked = blocked
        # A palette, not a style sheet: it is cheap to swap and reads back in tests.
        label.setPalette(self._blocked_palette if blocked else self._normal_palette)
        label.setFont(self._bold_font if blocked else self._normal_font)
