"""The census of live and dangling QObject wrappers by class, on real Qt objects."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from inspector.reach import census as census_module
from inspector.reach.census import Census
from inspector.resources import ResourceManagementService


class Marker(QObject):
    pass


class Other(QObject):
    pass


def test_the_census_counts_live_and_dangling_wrappers(qapp: QApplication) -> None:
    census = Census(sweep_every=1)  # look for dangling wrappers at every census
    try:
        parent = Marker()
        children = [Marker(parent) for _ in range(5)]
        census.take(time.monotonic(), 0.0)
        del parent  # deletes the C++ children; their wrappers, held here, dangle
        taken = census.take(time.monotonic(), 1.0)
        row = next(c for c in taken.classes if c.class_name == "Marker")
        assert (row.live, row.dangling) == (0, 5)
        assert taken.dangling >= 5
        del children
        taken = census.take(time.monotonic(), 2.0)
        assert all(c.class_name != "Marker" for c in taken.classes)
    finally:
        census.clear()


def test_live_counts_by_class_with_history_and_the_last_census(qapp: QApplication) -> None:
    census = Census()
    try:
        markers = [Marker() for _ in range(3)]
        other = Other()
        now = time.monotonic()
        taken = census.take(now, 12.34567)
        live = {c.class_name: c.live for c in taken.classes}
        assert live["Marker"] == 3
        assert live["Other"] == 1
        assert taken.t == 12.346
        assert taken.live >= 4
        assert census.last is taken
        (when, by_class) = census.history[-1]
        assert when == now
        assert by_class["Marker"] == 3
        del markers, other
    finally:
        census.clear()


def test_the_inspectors_own_objects_are_not_counted(
        service: ResourceManagementService) -> None:
    census = Census()  # the service is a QObject of the inspector's own
    try:
        marker = Marker()
        taken = census.take(time.monotonic(), 0.0)
        names = {c.class_name for c in taken.classes}
        assert "Marker" in names
        assert type(service).__name__ not in names
        del marker
    finally:
        census.clear()


def test_only_the_largest_classes_are_rows(qapp: QApplication,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(census_module, "CENSUS_ROWS", 1)
    census = Census()
    try:
        markers = [Marker() for _ in range(500)]
        taken = census.take(time.monotonic(), 0.0)
        assert [c.class_name for c in taken.classes] == ["Marker"]
        del markers
    finally:
        census.clear()
