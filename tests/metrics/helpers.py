"""What the metrics tests share: owners and resources of no particular kind, a leak policy
with short thresholds, and turning a real event loop until something holds."""

from __future__ import annotations

from inspector.metrics.hangs import WATCHDOG_PERIOD_S, WATCHDOG_TIMEOUT_S
from inspector.metrics.hangs.monitor import HangMonitor
from inspector.metrics.suspects import SuspectPolicy
from tests.conftest import pump

__all__ = ["FAST", "Owner", "Thing", "pump",
           "watchdog_fired_only_when_its_rearmer_could_not_run"]

#: Thresholds short enough for a test to cross them.
FAST = SuspectPolicy(retained_after_s=0.2, orphan_grace_s=0.1, growth_window_s=0.0,
                     growth_windows=3)


class Owner:
    """A component of no particular kind."""


class Thing:
    """A resource of no particular kind (weakly referenceable, unlike ``object()``)."""


def watchdog_fired_only_when_its_rearmer_could_not_run(monitor: HangMonitor,
                                                       fired: bool) -> bool:
    """The stall watchdog's design, checked: it fires only when the hang monitor's thread
    could not re-arm it in time (kept from the GIL by native code, or from any CPU on an
    overloaded machine), never while that Python thread runs. ``fired``: whether a dump was
    written or taken."""
    return not fired or monitor.longest_late_s >= WATCHDOG_TIMEOUT_S - WATCHDOG_PERIOD_S
