"""Fixtures for the dock's tests: a fake source, docks that are deleted for real afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QWidget

from inspector.ui import InspectorDock, MetricsSource

from .fakes import FakeSource


def delete_now(*widgets: QWidget) -> None:
    """Close and delete widgets the way a host does, and let Qt carry the deletion out."""
    for widget in widgets:
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


@pytest.fixture
def source() -> FakeSource:
    """A source whose answers the test sets."""
    return FakeSource()


@pytest.fixture
def make_dock(qapp: QApplication) -> Iterator[Callable[..., InspectorDock]]:
    """``make_dock(source=None, parent=None)``: a dock, deleted at the end of the test."""
    made: list[InspectorDock] = []

    def factory(source: MetricsSource | None = None,
                parent: QWidget | None = None) -> InspectorDock:
        dock = InspectorDock(source if source is not None else FakeSource(), parent)
        made.append(dock)
        return dock

    yield factory
    for dock in made:
        with contextlib.suppress(RuntimeError):  # already deleted with its parent window
            delete_now(dock)


@pytest.fixture
def dock(make_dock: Callable[..., InspectorDock], source: FakeSource) -> InspectorDock:
    """A dock over ``source``, not shown yet."""
    return make_dock(source)
