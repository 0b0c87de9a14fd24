"""The control row: what the dock shows on it does not loop back into the dock."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from inspector.ui.controls import DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS, ControlBar


def test_showing_state_emits_no_user_signal(qtbot: QtBot) -> None:
    bar = ControlBar()
    qtbot.addWidget(bar)
    toggled: list[bool] = []
    values: list[int] = []
    bar.pause_button.toggled.connect(toggled.append)
    bar.interval_spin.valueChanged.connect(values.append)
    bar.show_paused(True)
    assert bar.pause_button.isChecked()
    assert bar.pause_button.text() == "Resume"
    assert toggled == []  # shown, not toggled by the user
    bar.show_interval(DEFAULT_INTERVAL_MS)
    assert values == []  # unchanged: no signal
    bar.show_interval(MAX_INTERVAL_MS)
    assert bar.interval_spin.value() == MAX_INTERVAL_MS
    bar.show_paused(False)
    assert bar.pause_button.text() == "Pause"
