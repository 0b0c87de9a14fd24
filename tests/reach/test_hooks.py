"""What the patches count as the inspector's own starts, and what they keep of the program's."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from inspector.reach import hooks


def _in_module(name: str) -> Callable[..., Any]:
    """A function whose frames belong to module ``name``: it calls ``fn(*rest)``."""
    namespace: dict[str, Any] = {"__name__": name}
    exec("def call(fn, *rest):\n    return fn(*rest)\n", namespace)
    return namespace["call"]  # type: ignore[no-any-return]


def _own_here() -> bool:
    """Asked where a patch asks: of the frame that called ``start()`` (this one's caller)."""
    return hooks._inspectors_own(sys._getframe(1))


UI = _in_module("inspector.ui.dock")
PLOTS = _in_module("pyqtgraph.graphicsItems.PlotItem")
APP = _in_module("__main__")
APP_LIBRARY = _in_module("cutelog.listener")


def test_the_inspectors_code_and_pyqtgraph_under_it_start_its_own() -> None:
    assert UI(_own_here)
    assert UI(PLOTS, _own_here)
    assert UI(PLOTS, PLOTS, _own_here)


def test_the_programs_code_starts_its_own_whatever_called_it() -> None:
    assert not APP(_own_here)
    assert not APP(PLOTS, _own_here)  # the program's own plots
    assert not APP_LIBRARY(_own_here)
    assert not UI(APP, _own_here)  # a callback of the program's that the inspector ran


#: The patch `run` puts on ``QTimer.start``, over a ``start`` that does nothing.
_patched_start = hooks._start_patch(hooks.TIMER)(lambda timer: None)


class Owner:
    def __init__(self) -> None:
        self.timer = QTimer()

    def start_it(self) -> None:
        _patched_start(self.timer)


def test_a_start_keeps_the_site_and_the_starting_object_but_no_strong_reference(
        qapp: object) -> None:
    hooks.started.clear()
    owner = Owner()
    owner.start_it()
    owner.start_it()  # a restart of a known object is no news
    try:
        assert len(hooks.started) == 1
        note = hooks.Note.of_start(hooks.started[0])
        assert note.ref() is owner.timer
        assert note.creator is not None
        assert note.creator() is owner
        assert note.creator_class == "Owner"
        assert note.site == f"start_it ({__file__}:{Owner.start_it.__code__.co_firstlineno + 1})"
        timer = owner.timer
        del owner  # kept by nothing of the inspector's: only weakly
        assert note.creator() is None
        assert isinstance(timer, QObject)
    finally:
        hooks.started.clear()
        hooks.known.clear()


class SelfStarting(QTimer):
    def go(self) -> None:  # a method of the started object itself: its caller made it
        _patched_start(self)


class Launcher:
    def __init__(self) -> None:
        self.timer = SelfStarting()

    def launch(self) -> None:
        self.timer.go()

    @classmethod
    def from_class(cls, timer: QTimer) -> None:
        _patched_start(timer)


def _from_a_function(timer: QTimer) -> None:
    _patched_start(timer)


def test_the_starting_object_is_the_callers_self_else_its_class_else_the_module(
        qapp: object) -> None:
    hooks.started.clear()
    launcher = Launcher()
    by_class, by_function = QTimer(), QTimer()
    try:
        launcher.launch()
        Launcher.from_class(by_class)
        _from_a_function(by_function)
        notes = [hooks.Note.of_start(s) for s in hooks.started]
        assert [(n.ref(), n.creator_class) for n in notes] == [
            (launcher.timer, "Launcher"), (by_class, "Launcher"), (by_function, __name__)]
        assert [n.creator() if n.creator is not None else None for n in notes] == [
            launcher, Launcher, None]
    finally:
        hooks.started.clear()
        hooks.known.clear()
