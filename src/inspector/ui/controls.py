"""The dock's control row: pause, refresh interval, clear history, export, and the filter."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget

DEFAULT_INTERVAL_MS = 1000
MIN_INTERVAL_MS = 100
MAX_INTERVAL_MS = 10_000


class ControlBar(QWidget):
    """The panel's controls; the dock connects their signals to what they do."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Stop refreshing (the application is not affected)")
        self.interval_spin = QSpinBox(self)
        self.interval_spin.setRange(MIN_INTERVAL_MS, MAX_INTERVAL_MS)
        self.interval_spin.setSingleStep(100)
        self.interval_spin.setSuffix(" ms")
        self.interval_spin.setValue(DEFAULT_INTERVAL_MS)
        self.interval_spin.setToolTip("Refresh interval")
        # Apply on Enter or focus loss, not per keystroke ("2", "25", "250", "2500").
        self.interval_spin.setKeyboardTracking(False)
        self.clear_button = QPushButton("Clear history", self)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Save the shown snapshot as JSON, CSV or Prometheus text")
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter tables…")
        self.filter_edit.setClearButtonEnabled(True)
        for widget in (self.pause_button, self.interval_spin, self.clear_button,
                       self.export_button):
            layout.addWidget(widget)
        layout.addWidget(self.filter_edit, 1)

    def show_paused(self, paused: bool) -> None:
        """Show ``paused`` on the pause button without it emitting ``toggled``."""
        button = self.pause_button
        if button.isChecked() != paused:
            button.blockSignals(True)
            button.setChecked(paused)
            button.blockSignals(False)
        button.setText("Resume" if paused else "Pause")

    def show_interval(self, ms: int) -> None:
        """Show ``ms`` in the interval box (``valueChanged`` fires only on a change)."""
        if self.interval_spin.value() != ms:
            self.interval_spin.setValue(ms)
