"""Leak suspects: what looks leaked, found without ever forcing a garbage collection.

* ``retained_after_cleanup`` (LeakCanary's idea): a resource released by its owner's cleanup
  or destruction that is still alive ``retained_after_s`` later.
* ``orphan_worker``: a worker still running ``orphan_grace_s`` after its owner died.
* ``growth``: a sustained rise of a component's (or its class's, or a type's) live count or
  bytes of one type (see :class:`GrowthDetector`).
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import msgspec

from inspector.resources.counts import StoreAggregate
from inspector.resources.records import resource_serial
from inspector.resources.types import WatchedResource

from .snapshot import GROWTH, ORPHAN_WORKER, RETAINED_AFTER_CLEANUP, LeakSuspect, group_of


@dataclass(frozen=True, slots=True)
class SuspectPolicy:
    """Thresholds of the leak detector."""

    retained_after_s: float = 5.0
    orphan_grace_s: float = 1.0
    growth_window_s: float = 2.0
    growth_windows: int = 4
    growth_min_count: int = 3
    growth_min_bytes: int = 64 * 1024
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
        newest = max(members, key=lambda m: resource_serial(m.resource_id))
        out.append(msgspec.structs.replace(
            newest, count=sum(m.count for m in members),
            size_bytes=sum(m.size_bytes for m in members),
            age_s=max(m.age_s for m in members)))
    return out


class _Series:
    __slots__ = ("flagged_since", "samples")

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int, int]] = deque()  # (time, live, bytes)
        self.flagged_since: float | None = None


_Key = tuple[str, str, str]  # (scope: component / class / type, its name, type value)


class GrowthDetector:
    """A floor-trend rule over the samples of each owner-and-type, owner-class-and-type, and
    type: growth is ``growth_windows`` buckets of ``growth_window_s`` each (the last ones),
    whose minimums rise strictly, the last bucket's maximum above the one before (still
    rising), and the last bucket's minimum above the first bucket's maximum by a material
    amount (``growth_min_count`` resources, or ``growth_min_bytes`` bytes, and a tenth of
    where it started). Minimums, not means: steady churn, a burst that drains and
    a plateau all keep some bucket's floor from rising, so none of them is growth, and a rise
    is flagged once it has lasted the window (8 s by default), cleared a bucket after it stops.

    A row names the component that grew; else its class (``Dialog`` for ``Dialog#1``,
    ``Dialog#2``, ... each holding a little), else only the type (``*``).
    """

    def __init__(self, policy: SuspectPolicy) -> None:
        self._policy = policy
        self._series: dict[_Key, _Series] = {}
        self._suspects: list[tuple[str, str, str, float, int, str, str]] = []
        self._last = float("-inf")

    @property
    def last_observed(self) -> float:
        """When the last sample was fed (monotonic), -inf before the first."""
        return self._last

    def observe(self, agg: StoreAggregate, now: float,
                newest: Callable[[str, str], tuple[str, str, str, str]]
                = lambda cid, rtype: ("", "", "", ""),
                ) -> None:
        """Feed one sample (every 1 s or so) and re-judge every series."""
        self._last = now
        values = _sample(agg)
        self._record(values, now)
        rising = self._flag(now)
        self._suspects = self._name(rising, values, now, newest)

    def _record(self, values: dict[_Key, list[int]], now: float) -> None:
        """Append this sample to each series, trim their history, and drop the series of
        keys no longer sampled (an owner or type gone)."""
        policy = self._policy
        keep = max(policy.growth_window_s * (policy.growth_windows + 1), HISTORY_S)
        for key, (live, size) in values.items():
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series()
            series.samples.append((now, live, size))
            # Never below the window's samples; else older than ``keep``, or too many (a
            # caller sampling far faster than every second).
            while len(series.samples) > policy.growth_windows + 1 and (
                    now - series.samples[0][0] > keep
                    or len(series.samples) > max(4 * policy.growth_windows, 1024)):
                series.samples.popleft()
        for gone in set(self._series) - set(values):
            del self._series[gone]

    def _flag(self, now: float) -> set[_Key]:
        """The keys rising now; each keeps when its rise began, cleared once it stops."""
        rising = {key for key, series in self._series.items() if self._rising(series, now)}
        for key, series in self._series.items():
            if key in rising:
                if series.flagged_since is None:
                    series.flagged_since = series.samples[0][0]
            else:
                series.flagged_since = None
        return rising

    def _name(self, rising: set[_Key], values: dict[_Key, list[int]], now: float,
              newest: Callable[[str, str], tuple[str, str, str, str]],
              ) -> list[tuple[str, str, str, float, int, str, str]]:
        """One row per rise, named as narrowly as possible: a component, else its class
        (unless one of its components is named), else the type (unless anything of that
        type is named), so one leak is one row."""
        suspects: list[tuple[str, str, str, float, int, str, str]] = []
        named_types: set[str] = set()
        named_classes: set[tuple[str, str]] = set()
        for scope in ("component", "class", "type"):
            for key in sorted(k for k in rising if k[0] == scope):
                _, name, rtype = key
                if scope == "class" and (name, rtype) in named_classes:
                    continue  # one of its components is named already
                if scope == "type" and rtype in named_types:
                    continue
                series = self._series[key]
                cid = name
                if scope == "class":
                    cid = self._newest_member(name, rtype, values)
                rid, _, rname, site = newest(cid, rtype) if scope != "type" else ("",) * 4
                named_types.add(rtype)
                named_classes.add((group_of(name), rtype))
                since = series.flagged_since if series.flagged_since is not None else now
                suspects.append((name, rtype, rid, since, series.samples[-1][2], rname, site))
        return suspects

    def suspects(self, now: float) -> list[LeakSuspect]:
        """Growth suspects as of the last sample."""
        span = self._policy.growth_window_s * self._policy.growth_windows
        return [LeakSuspect(component_id=cid, resource_type=rtype, resource_id=rid,
                            reason=GROWTH, age_s=round(now - since, 3),
                            detail=f"live count or bytes rising for {span:g} s",
                            size_bytes=size, name=name, site=site)
                for cid, rtype, rid, since, size, name, site in self._suspects]

    @staticmethod
    def _newest_member(group: str, rtype: str, values: dict[_Key, list[int]]) -> str:
        members = [k[1] for k, v in values.items()
                   if k[0] == "component" and k[2] == rtype and v[0] and group_of(k[1]) == group]
        return max(members, key=lambda cid: [int(n) for n in re.findall(r"\d+", cid)] or [0],
                   default=group)

    def _rising(self, series: _Series, now: float) -> bool:
        policy = self._policy
        buckets = _buckets(series.samples, now, policy.growth_window_s, policy.growth_windows)
        if buckets is None:
            return False
        # What it reached before the last two buckets, window and the history before it: a
        # rise ends above all of it, which churn that merely wanders up for a while does not.
        if policy.growth_window_s > 0:
            cut = now - 2 * policy.growth_window_s
            earlier = [(live, size) for t, live, size in series.samples if t < cut]
        else:
            earlier = [(live, size) for _, live, size in list(series.samples)[:-2]]
        return (_floor_rises([[v[0] for v in b] for b in buckets], policy.growth_min_count,
                             max((v[0] for v in earlier), default=0))
                or _floor_rises([[v[1] for v in b] for b in buckets], policy.growth_min_bytes,
                                max((v[1] for v in earlier), default=0)))


#: Kendall's tau over the window that a rise must also show: random churn passes the floor
#: rule now and then (4 bucket minimums in order, 1 in 24), and almost never this as well.
MIN_TREND = 0.6
#: Seconds of samples kept per series, to know the highest it reached before a window.
HISTORY_S = 30.0


def _sample(agg: StoreAggregate) -> dict[_Key, list[int]]:
    """``[live, bytes]`` now of each component and type, and each class summed over its
    components (``Dialog`` for ``Dialog#1``, ``Dialog#2``: one leak spread thin over many
    instances); a type only once anything of it was created."""
    values: dict[_Key, list[int]] = {}
    for cid, rtype, live, size in agg.cells:
        values[("component", cid, rtype)] = [live, size]
        group = group_of(cid)
        if group != cid:
            sums = values.setdefault(("class", group, rtype), [0, 0])
            sums[0] += live
            sums[1] += size
    for t, counts in agg.by_type.items():
        if counts.created:
            values[("type", "*", t.value)] = [counts.live, counts.bytes]
    return values


def _buckets(samples: deque[tuple[float, int, int]], now: float, length: float, count: int
             ) -> list[list[tuple[int, int]]] | None:
    """The last ``count`` buckets of ``length`` seconds (one sample each when 0), oldest
    first; None while the samples do not cover them all."""
    if length <= 0:
        if len(samples) < count:
            return None
        return [[(live, size)] for _, live, size in list(samples)[-count:]]
    start = now - length * count
    # Covered: the first sample is no later than half a bucket into the window.
    if samples[0][0] > start + length / 2:
        return None
    out: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for t, live, size in samples:
        index = int((t - start) // length)
        if 0 <= index < count:
            out[index].append((live, size))
        elif index == count:  # the sample taken right now
            out[-1].append((live, size))
    return out if all(out) else None


def _floor_rises(buckets: list[list[int]], material: int, earlier_peak: int) -> bool:
    floors = [min(b) for b in buckets]
    if floors[-1] <= earlier_peak:
        return False
    if any(later <= earlier for earlier, later in itertools.pairwise(floors)):
        return False
    if max(buckets[-1]) <= max(buckets[-2]):
        return False  # no longer rising: a fill that has reached its plateau
    first_peak = max(buckets[0])
    if floors[-1] - first_peak < max(material, first_peak // 10, 1):
        return False
    return _kendall([v for b in buckets for v in b]) >= MIN_TREND


def _kendall(values: list[int]) -> float:
    """Kendall's tau-a of ``values`` against their order (ties count as neither)."""
    n = len(values)
    if n < 2:
        return 1.0
    score = 0
    for i in range(n - 1):
        vi = values[i]
        for vj in values[i + 1:]:
            score += (vj > vi) - (vj < vi)
    return score / (n * (n - 1) / 2)
