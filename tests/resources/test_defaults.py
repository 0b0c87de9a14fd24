"""Process-wide helpers are defaults a service can be given instead: its own holding area
for orphaned workers, its own exit list, janitor and id counter; and a controller, its own
numbering of component ids."""

from __future__ import annotations

import itertools
import threading
import time

from PySide6.QtCore import QObject, QThread

from inspector.resources import (
    BaseController,
    ComponentNumbers,
    ResourceType,
    WorkerResourceCoordinator,
    orphaned_workers,
)
from inspector.resources.controller import NUMBERS
from inspector.resources.exits import EXIT_CLEANUPS, ExitCleanups
from inspector.resources.janitor import Janitor
from inspector.resources.orphans import ORPHANS, OrphanHold
from inspector.resources.service import ResourceManagementService


class Stubborn(QThread):
    """Ignores cancellation until released by the test."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def cancel(self) -> None:
        pass

    def run(self) -> None:
        self.release.wait(10)


class Counting:
    """Counts exit cleanups."""

    def __init__(self) -> None:
        self.runs = 0

    def cleanup(self) -> int:
        self.runs += 1
        return 0


def test_orphans_go_to_their_own_services_holding_area(qapp: object) -> None:
    hold = OrphanHold()
    service = ResourceManagementService(orphans=hold, exits=ExitCleanups())
    owner = QObject()
    coord = WorkerResourceCoordinator("W", service, stop_timeout_ms=50)
    coord.bind_to_component(owner)
    worker = Stubborn()
    worker.start()
    deadline = time.monotonic() + 5
    while not worker.isRunning() and time.monotonic() < deadline:
        time.sleep(0.001)
    rid = coord.track_worker(worker).resource_id
    service.cleanup_component(owner)
    try:
        assert hold.workers() == [worker]
        assert [o.resource_id for o in hold.infos()] == [rid]
        assert worker not in orphaned_workers()  # the default area is not this service's
        assert ORPHANS is not hold
    finally:
        worker.release.set()
        assert worker.wait(5000)
    hold.prune()
    assert hold.workers() == []


def test_exit_cleanups_run_for_living_services_only() -> None:
    exits = ExitCleanups()
    kept, dropped = Counting(), Counting()
    exits.add(kept.cleanup)
    exits.add(dropped.cleanup)
    assert len(exits) == 2
    del dropped
    assert len(exits) == 1
    exits.run()
    assert kept.runs == 1


def test_a_service_given_its_own_helpers_leaves_the_defaults_alone(qapp: object) -> None:
    exits, janitor = ExitCleanups(), Janitor(tick_s=0.01)
    before = len(EXIT_CLEANUPS)
    service = ResourceManagementService(exits=exits, janitor=janitor,
                                        ids=itertools.count(500), cleanup_interval_ms=10)
    assert len(exits) == 1
    assert len(EXIT_CLEANUPS) == before
    assert id(service) in janitor._due  # cleaned by the janitor it was given
    owner, thing = QObject(), QObject()
    assert service.track_resource(owner, ResourceType.QOBJECT, thing) == "qobject-500"
    exits.run()
    assert service.exit_cleanup_done
    assert not service.is_tracked("qobject-500")
    janitor.remove(service)


class Cleaned:
    """Counts periodic cleanups."""

    def __init__(self) -> None:
        self.cleaned = threading.Event()

    def periodic_cleanup(self) -> None:
        self.cleaned.set()


def test_the_janitor_sleeps_until_a_cleanup_is_due_and_wakes_for_a_sooner_one() -> None:
    janitor = Janitor(tick_s=0.01)
    slow, quick = Cleaned(), Cleaned()
    janitor.add(slow, 30.0)  # the thread now sleeps until this one is due, 30 s away
    time.sleep(0.05)  # not awaiting anything: lets it fall asleep, so a missed wake shows
    janitor.add(quick, 0.05)  # due sooner: it must not wait for the slow one's time
    try:
        assert quick.cleaned.wait(5.0)
        assert not slow.cleaned.is_set()
    finally:
        janitor.remove(slow)
        janitor.remove(quick)


class Tab(BaseController):
    """A controller made without an id."""


def test_a_controller_numbers_itself_from_an_injected_numbering(
        service: ResourceManagementService) -> None:
    Tab(service=service)  # the process's numbering moves on: Tab#k for some k
    following = NUMBERS.next("Tab")
    own = ComponentNumbers()
    tabs = [Tab(service=service, numbers=own) for _ in range(2)]
    assert [tab.component_id for tab in tabs] == ["Tab#1", "Tab#2"]
    assert set(service.get_statistics()["by_component"]) >= {"Tab#1", "Tab#2"}
    # The injected numbering took nothing from the process's, which goes on where it was.
    assert NUMBERS.next("Tab") == f"Tab#{int(following.split('#')[1]) + 1}"
    for tab in tabs:
        tab.cleanup()
