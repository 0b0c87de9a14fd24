"""The ``resinspect`` fixture: snapshots of the test's service, and repeat-until-flat.

``repeat(action, undo, times=5)`` is memlab's idea: run an action and its undo (open a tab,
close it) several times and look at what is left after each round. The first round may warm
caches; from the second on, nothing may keep growing. Three things are counted after every
round, once what was let go is collected and deleted (:func:`~.qtwatch.settle`):

- ``instances:CLASS`` - components alive, by class (the id without ``#n``);
- ``live:CLASS`` and ``type:TYPE`` - live resources, by component class and by type;
- ``qobjects:CLASS`` - a census of live Qt objects created from Python, by class.

A count that rose from the first round to the last, never falling on the way, is a leak: the
test fails naming it, its counts round by round and, for the newest instance, what keeps it
alive.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from ..metrics.snapshot import Snapshot, group_of
from ..metrics.text import safe
from .chains import reference_chain
from .qtwatch import settle

if TYPE_CHECKING:
    from ..metrics.model import MetricsModel
    from ..resources import IResourceManagementService


#: Growing counts a failure lists (the rest are summed up in one line).
MAX_LISTED = 12


class Resinspect:
    """What the ``resinspect`` fixture gives a test (one per test, over its service)."""

    def __init__(self, service: IResourceManagementService, *, app: str = "pytest") -> None:
        self.service = service
        self._app = app
        self._model: MetricsModel | None = None

    @property
    def model(self) -> MetricsModel:
        """A metrics model over the service, made on first use and never started: snapshots
        read the service's counters, no sampler thread runs."""
        if self._model is None:
            from ..metrics.model import MetricsModel
            from ..resources import ResourceManagementService

            if not isinstance(self.service, ResourceManagementService):
                raise TypeError("the resinspect fixture reads a ResourceManagementService; "
                                f"got {type(self.service).__name__}")
            self._model = MetricsModel(self.service, app=self._app)
        return self._model

    def watch_hangs(self) -> bool:
        """Record stalls of the event loop from now on (the probe's heartbeat and hang
        monitor), so that snapshots count ``hangs`` and ``max_hang_ms``; stopped by
        :meth:`close`. A stall is any stretch over the hang threshold in which the GUI thread
        did not turn its event loop once it had turned it: a slow slot run by ``qtbot.wait``,
        but also test code between two ``processEvents`` calls. False without a
        QApplication on this thread."""
        probe = self.model.probe
        if not probe.start():
            return False
        # The loop counts as turning from here: a stall in the test's first slot, before the
        # heartbeat's first beat, would otherwise be taken for start-up and not recorded.
        probe.beat.stamp()
        return True

    def snapshot(self, *, settled: bool = True) -> Snapshot:
        """A snapshot of the service now; ``settled``: after collecting what was let go."""
        if settled:
            settle()
        return self.model.snapshot()

    def repeat(self, action: Callable[[], object], undo: Callable[[], object], times: int = 5
               ) -> dict[str, list[int]]:
        """Run ``action`` then ``undo``, ``times`` times; fail the test when anything still
        grows from the second round on. Returns every count, one value a round."""
        if times < 2:
            raise ValueError(f"repeat needs at least 2 rounds to see growth, not {times}")
        rounds: list[Counter[str]] = []
        for _ in range(times):
            action()
            undo()
            rounds.append(self.counts())
        keys = sorted({key for counts in rounds for key in counts})
        series = {key: [counts[key] for counts in rounds] for key in keys}
        growing = {key: values for key, values in series.items() if still_growing(values)}
        if growing:
            # Class and object names come from the application: escaped, as in every output.
            report = "\n".join(safe(line) for line in
                               self._growth_report(growing, action, undo, times).splitlines())
            pytest.fail(report, pytrace=False)
        return series

    def counts(self) -> Counter[str]:
        """Every count :meth:`repeat` compares, now (after settling)."""
        counts: Counter[str] = Counter()
        snap = self.snapshot()
        for comp in snap.components:
            if comp.alive:
                counts[f"instances:{group_of(comp.id)}"] += 1
            counts[f"live:{group_of(comp.id)}"] += comp.live
        for name, stats in snap.by_type.items():
            counts[f"type:{name}"] += stats.live
        for cls in qobject_census():
            counts[f"qobjects:{cls}"] += 1
        return counts

    def close(self) -> None:
        """Stop listening to the service."""
        if self._model is not None:
            self._model.close()
            self._model = None

    def _growth_report(self, growing: dict[str, list[int]], action: Callable[[], object],
                       undo: Callable[[], object], times: int) -> str:
        lines = [f"resinspect: still growing from round 1 to {times} of "
                 f"{_name(action)} / {_name(undo)}:"]
        explained = 0
        for shown, (key, values) in enumerate(growing.items()):
            if shown == MAX_LISTED:
                lines.append(f"  and {len(growing) - shown} more")
                break
            lines.append(f"  {key}: {' → '.join(map(str, values))}")
            if explained < 3:
                chain = self._chain_for(key)
                if chain:
                    lines.append(f"    kept alive by: {' → '.join(chain)}")
                    explained += 1
        return "\n".join(lines)

    def _chain_for(self, key: str) -> list[str] | None:
        kind, _, name = key.partition(":")
        if kind in ("instances", "live"):
            return _newest_owner_chain(self.service, name)
        if kind == "qobjects":
            return _newest_qobject_chain(name)
        return None


def still_growing(values: list[int]) -> bool:
    """Rose from the first round to the last and never fell between (a leak, not noise)."""
    return values[-1] > values[0] and all(b >= a for a, b in itertools.pairwise(values))


def qobject_census() -> list[str]:
    """The class of every live Qt object created from Python (none without PySide6 loaded)."""
    import sys

    if "PySide6.QtCore" not in sys.modules:
        return []
    import shiboken6
    from PySide6.QtCore import QObject

    return [type(w).__qualname__ for w in shiboken6.getAllValidWrappers()
            if isinstance(w, QObject) and shiboken6.createdByPython(w)]


def owner_chain(service: IResourceManagementService, group: str) -> list[str] | None:
    """What keeps alive the newest component of ``group`` (an id, or an id without ``#n``)."""
    return _newest_owner_chain(service, group)


def _newest_owner_chain(service: Any, group: str) -> list[str] | None:
    store = getattr(service, "store", None)
    if store is None:
        return None
    owners = [owner for cid, owner in store.owners() if cid == group or group_of(cid) == group]
    if not owners:
        return None
    newest = owners[-1]
    del owners  # the chain must not find this list holding it
    return reference_chain(newest)


def _newest_qobject_chain(cls: str) -> list[str] | None:
    import shiboken6

    newest = None
    for wrapper in shiboken6.getAllValidWrappers():
        if type(wrapper).__qualname__ == cls and shiboken6.createdByPython(wrapper):
            newest = wrapper
    if newest is None:
        return None
    return reference_chain(newest)


def _name(fn: Callable[[], object]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
