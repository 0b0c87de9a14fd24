"""Names for what a chain passes through: callables, keys, attributes, Qt objects."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

from inspector.metrics.why.names import (
    MISSING,
    attribute_of,
    callable_info,
    describe_object,
    key_of,
    qt_parent,
)


class Signal:
    def __init__(self) -> None:
        self.slots: list[Callable[[], None]] = []

    def connect(self, slot: Callable[[], None]) -> None:
        self.slots.append(slot)


class Button:
    def __init__(self) -> None:
        self.clicked = Signal()

    def press(self) -> None:
        pass


class Slotted:
    __slots__ = ("held",)

    def __init__(self, held: object) -> None:
        self.held = held


def test_a_lambda_connected_on_its_own_line_names_the_signal() -> None:
    button = Button()
    button.clicked.connect(lambda: None)
    (slot,) = button.clicked.slots
    name, site, signal = callable_info(slot)
    assert name.endswith("<lambda>")
    assert site.startswith(f"{name} ({__file__}:")
    assert signal == "clicked"


def test_partials_methods_and_builtins_are_named_by_their_function() -> None:
    button = Button()
    name, _site, signal = callable_info(partial(button.press))
    assert name == "functools.partial of Button.press"
    assert signal == ""
    assert callable_info(button.press)[0] == "Button.press"
    assert callable_info(len) == ("len", "", "")  # no code: no site


def test_keys_and_attributes_are_found_by_identity() -> None:
    value = object()
    assert key_of({"a": object(), "b": value}, value) == "b"
    assert key_of({"a": object()}, value) is MISSING
    assert key_of([value], value) is MISSING  # not a mapping
    button = Button()
    assert attribute_of(button, button.clicked) == "clicked"
    assert attribute_of(Slotted(value), value) == "held"
    assert attribute_of(button, value) == ""


def test_qt_objects_are_described_by_class_and_name_and_parent() -> None:
    parent = QObject()
    parent.setObjectName("gallery")
    child = QObject(parent)
    assert describe_object(parent) == "QObject 'gallery'"
    assert describe_object(child) == "QObject"
    assert describe_object(Button()) == "Button"
    assert qt_parent(child) is parent
    assert qt_parent(parent) is None
    assert qt_parent(Button()) is None
    gone: Any = QObject()
    shiboken6.delete(gone)
    assert describe_object(gone) == "QObject (deleted)"
    assert qt_parent(gone) is None
