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


def _dangling_markers(census: Census, censuses: int) -> int:
    taken = None
    for _ in range(censuses):
        taken = census.take(time.monotonic(), 0.0)
    assert taken is not None
    return next((c.dangling for c in taken.classes if c.class_name == "Marker"), 0)


def test_each_census_sweeps_a_share_and_a_pass_finds_every_dangling_wrapper(
        qapp: QApplication) -> None:
    # A pass of 100 censuses: one census checks at most a hundredth of the wrappers it
    # follows (64 at least), however many QObjects earlier tests left in this process.
    census = Census(sweep_every=100)
    try:
        parent = Marker()
        children = [Marker(parent) for _ in range(300)]
        assert _dangling_markers(census, 1) == 0
        late = [Marker(parent) for _ in range(50)]  # made mid-pass, anywhere in memory
        assert _dangling_markers(census, 100) == 0  # a pass: every address range was seen
        del parent  # the C++ children go; their wrappers, held here, dangle
        # One census checks a share of what it follows, not all: the sweep is spread...
        assert _dangling_markers(census, 1) < 350
        # ...and within two passes every one was found.
        assert _dangling_markers(census, 199) == 350
        del children, late
        assert _dangling_markers(census, 1) == 0
    finally:
        census.clear()


def test_a_listing_out_of_address_order_is_swept_whole(
        qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from shiboken6 import Shiboken

    shuffle = random.Random(13).shuffle

    class Shuffled:
        @staticmethod
        def getAllValidWrappers() -> list[object]:
            wrappers: list[object] = list(Shiboken.getAllValidWrappers())
            shuffle(wrappers)
            return wrappers

    monkeypatch.setattr(census_module, "Shiboken", Shuffled)
    census = Census(sweep_every=10)
    try:
        parent = Marker()
        children = [Marker(parent) for _ in range(300)]
        assert _dangling_markers(census, 10) == 0
        del parent
        assert _dangling_markers(census, 10) == 300
        del children
    finally:
        census.clear()


def test_any_run_of_a_pass_of_censuses_sees_every_address_across_new_splits() -> None:
    import random

    k = 5
    census = Census(sweep_every=k)
    objects = sorted((object() for _ in range(600)), key=id)  # stand-ins, in address order
    pick = random.Random(7)
    listings, shares = [], []
    for _ in range(8 * k):  # the mix shifts every census, so each pass splits elsewhere
        listing = sorted(pick.sample(objects, 300), key=id)
        listings.append(listing)
        shares.append({id(o) for o in census._share_of(listing)})
        census._taken += 1
    for first in range(len(listings) - k + 1):
        window = range(first, first + k)
        always = set.intersection(*({id(o) for o in listings[i]} for i in window))
        seen = set().union(*(shares[i] for i in window))
        assert always <= seen, f"censuses {first}..{first + k - 1} missed some"
