"""Every current leak suspect of one service: retained, orphaned, growing, and what an
extension adds (``resinspect run``'s Qt objects). The rules themselves are in
``suspects.py``; this keeps their state and applies them. Never forces a collection, but
for the one a retained resource waits for (:meth:`LeakFinder.confirm_pending`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from inspector.resources import InspectedService, ResourceType
from inspector.resources.counts import StoreAggregate

from .gcwatch import WATCH
from .snapshot import ORPHAN_WORKER, LeakSuspect
from .suspects import GrowthDetector, SuspectPolicy, group_suspects, watched_suspects

#: ``extend(found, now)``: the suspect list with an extension's own added.
SuspectFilter = Callable[[list[LeakSuspect], float], list[LeakSuspect]]


class LeakFinder:
    """The leak detector's state for one service (the growth windows), and its findings."""

    def __init__(self, service: InspectedService, policy: SuspectPolicy) -> None:
        self.service = service
        self._policy = policy
        self._growth = GrowthDetector(policy)
        self._lock = threading.Lock()
        self._filters: list[SuspectFilter] = []

    @property
    def policy(self) -> SuspectPolicy:
        """The thresholds; assigning new ones resets the growth windows."""
        return self._policy

    @policy.setter
    def policy(self, policy: SuspectPolicy) -> None:
        with self._lock:
            self._policy = policy
            self._growth = GrowthDetector(policy)

    def add_filter(self, extend: SuspectFilter) -> None:
        """Have ``extend(found, now)`` add its own suspects to every list (any thread)."""
        self._filters.append(extend)

    def observe_due(self, now: float, interval_s: float) -> bool:
        """Whether growth was last judged ``interval_s`` or longer before ``now``."""
        return now - self._growth.last_observed >= interval_s

    def observe(self, agg: StoreAggregate, now: float) -> None:
        """Feed one sample of the counters to the growth windows."""
        with self._lock:
            self._growth.observe(agg, now, self.service.store.newest_resource)

    def confirm_pending(self, now: float) -> None:
        """Run a full collection when a retained resource has waited ``confirm_after_s`` for
        one Python did not run (rate-limited by the watch); on the sampler thread only."""
        wait = self._policy.confirm_after_s
        if any(now - w.released_at >= wait and not w.running
               and not WATCH.confirmed(w.released_at) for w in self.service.watched()):
            WATCH.maybe_collect(now)

    def suspects(self, now: float) -> list[LeakSuspect]:
        """Every current suspect, grouped by fingerprint."""
        # A held orphan that has finished is let go first, or it would read as retained.
        hold = self.service.orphans
        hold.prune()
        found = watched_suspects(self.service.watched(), now, self.policy, WATCH.confirmed)
        # Workers whose owner went without a cleanup (deleted with its tab, or dropped after
        # deleteLater): the service released them, the holding area still runs them.
        reported = {s.resource_id for s in found}
        for orphan in hold.infos():
            age = now - orphan.handed_at
            if orphan.resource_id not in reported and age >= self.policy.orphan_grace_s:
                found.append(LeakSuspect(
                    component_id=orphan.component_id, resource_type=ResourceType.WORKER.value,
                    resource_id=orphan.resource_id, reason=ORPHAN_WORKER,
                    age_s=round(age, 3), detail="still running after its owner was deleted",
                    name=orphan.name, site=orphan.site))
        with self._lock:
            found.extend(self._growth.suspects(now))
        for extend in self._filters:
            found = extend(found, now)
        return group_suspects(found)
