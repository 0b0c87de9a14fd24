"""Teardown audits, departed components and history markers, from a real service's events."""

from __future__ import annotations

import gc
import time

from inspector.metrics import MetricsModel
from inspector.metrics.history import HistoryRings
from inspector.metrics.teardowns import TeardownLog
from inspector.resources import ResourceManagementService

from .helpers import Owner, pump


def listen(service: ResourceManagementService, audit_size: int = 100
           ) -> tuple[TeardownLog, HistoryRings]:
    rings = HistoryRings()
    log = TeardownLog(rings, time.monotonic(), audit_size)
    service.add_listener(log.on_event)
    return log, rings


def broken() -> None:
    raise OSError("disk full")


def test_a_cleanup_is_audited_and_marked_and_a_departure_remembered(
        service: ResourceManagementService) -> None:
    log, rings = listen(service)
    owner = Owner()
    service.register_component(owner, "Audited", "tab")
    calls: list[str] = []
    service.register_cleanup(owner, lambda: calls.append("closed"), priority=9)
    service.cleanup_component(owner)
    (audit,) = log.audits()
    assert audit.component_id == "Audited"
    assert calls == ["closed"]
    assert [c.error for c in audit.callbacks] == [None]
    del owner
    gc.collect()
    # A collected owner is unregistered later, by the GUI thread's loop, never inside gc.
    pump(lambda: len(rings.markers()) == 3, 5)
    kinds = [(m.kind, m.component_id) for m in rings.markers()]
    assert kinds == [("registered", "Audited"), ("cleaned_up", "Audited"),
                     ("destroyed", "Audited")]
    kind, gone_at = log.departed("Audited", now=0.0)
    assert kind == "tab"
    assert gone_at > 0.0
    assert log.departed("Never", now=12.5) == ("component", 12.5)


def test_failing_teardowns_stay_in_sight_after_routine_ones(
        service: ResourceManagementService) -> None:
    log, _ = listen(service, audit_size=2)
    failing = Owner()
    service.register_component(failing, "Failing")
    service.register_cleanup(failing, broken)
    service.cleanup_component(failing)
    routine = [Owner() for _ in range(3)]
    for n, owner in enumerate(routine):
        service.register_component(owner, f"Routine{n}")
        service.cleanup_component(owner)
    # The two newest routine ones, with the failing one they pushed out kept before them.
    assert [a.component_id for a in log.audits()] == ["Failing", "Routine1", "Routine2"]
    assert log.audits()[0].callbacks[0].error == "OSError: disk full"


def test_teardown_audit_records_order_duration_and_errors(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    owner = Owner()
    service.register_component(owner, "Audited")

    def slow() -> None:
        time.sleep(0.02)

    def broken() -> None:
        raise OSError("disk full")

    service.register_cleanup(owner, slow, priority=5)
    service.register_cleanup(owner, broken, priority=9)
    service.cleanup_component(owner)
    (audit,) = model.snapshot().audits
    assert audit.component_id == "Audited"
    assert [c.name.rsplit(".", 1)[-1] for c in audit.callbacks] == ["broken", "slow"]
    assert [c.order for c in audit.callbacks] == [0, 1]
    assert audit.callbacks[0].error == "OSError: disk full"
    assert audit.callbacks[1].duration_ms >= 15
