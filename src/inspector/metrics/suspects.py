"""Leak suspects: what looks leaked, found without ever forcing a garbage collection.

* ``retained_after_cleanup`` (LeakCanary's idea): a resource released by its owner's cleanup
  or destruction that is still alive ``retained_after_s`` later.
* ``orphan_worker``: a worker still running ``orphan_grace_s`` after its owner died.
* ``growth``: a component's or a type's live count or bytes rising window after window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import msgspec

from inspector.fleet.diff import group_of
from inspector.resources.store import StoreAggregate
from inspector.resources.types import WatchedResource

from .snapshot import GROWTH, ORPHAN_WORKER, RETAINED_AFTER_CLEANUP, LeakSuspect


@dataclass(frozen=True, slots=True)
class SuspectPolicy:
    """Thresholds of the leak detector."""

    retained_after_s: float = 5.0
    orphan_grace_s: float = 1.0
    growth_window_s: float = 5.0
    growth_windows: int = 4
    confirm_after_s: float = 5.0


def watched_suspects(watched: Iterable[WatchedResource], now: float,
                     policy: SuspectPolicy,
                     confirmed: Callable[[float], bool] = lambda released_at: True,
                     ) -> list[LeakSuspect]:
    """Retained resources and orphaned workers among those released by a cleanup.

    ``confirmed(released_at)`` says whether a full collection began after that moment: a
    retained resource is confirmed only then (an orphaned worker runs: it needs none).
    """
    out = []
    for w in watched:
        age = now - w.released_at
        if w.running and w.owner_dead and age >= policy.orphan_grace_s:
            reason, detail, sure = ORPHAN_WORKER, "still running after its owner died", True
        elif age >= policy.retained_after_s:
            reason = RETAINED_AFTER_CLEANUP
            detail = ("still running after its owner's cleanup" if w.running
                      else "still alive after its owner's cleanup")
            sure = w.running or confirmed(w.released_at)
        else:
            continue
        out.append(LeakSuspect(component_id=w.component_id, resource_type=w.resource_type.value,
                               resource_id=w.resource_id, reason=reason, age_s=round(age, 3),
                               detail=detail, size_bytes=w.size_bytes, name=w.name,
                               site=w.site, confirmed=sure))
    return out


def group_suspects(suspects: Iterable[LeakSuspect]) -> list[LeakSuspect]:
    """One row per owner class, type, reason, site and state (LeakCanary's fingerprint).

    A row is its newest member (highest resource number) with ``count`` members, their
    summed ``size_bytes`` and the oldest member's age. Confirmed and pending members of one
    fingerprint are separate rows, so budgets can count the confirmed ones exactly.
    """
    groups: dict[tuple[str, str, str, str, bool], list[LeakSuspect]] = {}
    order: list[tuple[str, str, str, str, bool]] = []
    for x in suspects:
        owner = x.component_id if x.component_id == "*" else group_of(x.component_id)
        # Growth rows without a site are one series each: keep them apart.
        key = (owner if x.site or x.reason != GROWTH else x.component_id,
               x.resource_type, x.reason, x.site, x.confirmed)
        members = groups.get(key)
        if members is None:
            members = groups[key] = []
            order.append(key)
        members.append(x)
    out = []
    for key in order:
        members = groups[key]
        if len(members) == 1:
            out.append(members[0])
            continue
        newest = max(members, key=lambda m: _number(m.resource_id))
        out.append(msgspec.structs.replace(
            newest, count=sum(m.count for m in members),
            size_bytes=sum(m.size_bytes for m in members),
            age_s=max(m.age_s for m in members)))
    return out


def _number(resource_id: str) -> int:
    tail = resource_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


class _Series:
    __slots__ = ("rising_since", "values")

    def __init__(self, windows: int) -> None:
        self.values: deque[tuple[int, int]] = deque(maxlen=windows + 1)
        self.rising_since = 0.0


class GrowthDetector:
    """Closes a window every ``growth_window_s`` and flags series that rose in each of the
    last ``growth_windows`` windows (count or bytes up, neither down)."""

    def __init__(self, policy: SuspectPolicy) -> None:
        self._policy = policy
        self._components: dict[str, _Series] = {}
        self._types: dict[str, _Series] = {}
        self._next_window: float | None = None
        self._suspects: list[tuple[str, str, str, float, int, str, str]] = []

    def observe(self, agg: StoreAggregate, now: float,
                newest: Callable[[str], tuple[str, str, str, str]] = lambda cid: ("",) * 4,
                ) -> None:
        """Feed one sample; a window closes when its time has come."""
        if self._next_window is None:
            self._next_window = now
        if now < self._next_window:
            return
        self._next_window = now + self._policy.growth_window_s
        seen = set()
        for c in agg.components:
            seen.add(c.component_id)
            self._push(self._components, c.component_id, (c.live, c.bytes), now)
        for gone in set(self._components) - seen:
            del self._components[gone]
        for t, counts in agg.by_type.items():
            if counts.created:
                self._push(self._types, t.value, (counts.live, counts.bytes), now)
        suspects: list[tuple[str, str, str, float, int, str, str]] = []
        grown_types = set()
        for cid, series in self._components.items():
            if self._rising(series):
                # O(that component's resources), only when it grows
                rid, rtype, name, site = newest(cid)
                grown_types.add(rtype)
                suspects.append((cid, rtype, rid, series.rising_since, series.values[-1][1],
                                 name, site))
        for type_name, series in self._types.items():
            if type_name not in grown_types and self._rising(series):
                suspects.append(("*", type_name, "", series.rising_since,
                                 series.values[-1][1], "", ""))
        self._suspects = suspects

    def suspects(self, now: float) -> list[LeakSuspect]:
        """Growth suspects as of the last closed window."""
        return [LeakSuspect(component_id=cid, resource_type=rtype, resource_id=rid,
                            reason=GROWTH, age_s=round(now - since, 3),
                            detail=f"rising for {self._policy.growth_windows} windows of "
                                   f"{self._policy.growth_window_s:g} s",
                            size_bytes=size, name=name, site=site)
                for cid, rtype, rid, since, size, name, site in self._suspects]

    def _push(self, table: dict[str, _Series], key: str, value: tuple[int, int],
              now: float) -> None:
        series = table.get(key)
        if series is None:
            series = table[key] = _Series(self._policy.growth_windows)
        if not series.values or not _rose(series.values[-1], value):
            series.rising_since = now
        series.values.append(value)

    def _rising(self, series: _Series) -> bool:
        values = series.values
        if len(values) <= self._policy.growth_windows:
            return False
        pairs = zip(list(values)[:-1], list(values)[1:], strict=True)
        return all(_rose(a, b) for a, b in pairs)


def _rose(before: tuple[int, int], after: tuple[int, int]) -> bool:
    return after[0] >= before[0] and after[1] >= before[1] and after != before
