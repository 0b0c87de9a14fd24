"""What grew between two snapshots: a pure function of them, keyed by component and type.

Nothing is keyed by an address, a resource id or a line number: those differ between runs
and say nothing about what grew. Components are matched by id, and also grouped by their id
without instance numbers (:func:`group_of`), so ``MediaAnalysisController#1`` of one run and
``MediaAnalysisController#2`` of another compare as ``MediaAnalysisController``.

The result is a msgspec struct: ``msgspec.json.encode(diff)`` is the ``--json`` output
(schema ``resinspect.diff/1``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import msgspec

# group_of lives with the snapshot: the Prometheus exporter labels by it too.
from ..metrics.snapshot import ComponentStats, LeakSuspect, Snapshot, group_of

DIFF_SCHEMA = "resinspect.diff/1"

#: The totals of a diff, in the order they are shown.
TOTALS = (
    "live_resources",
    "tracked_bytes",
    "created_total",
    "destroyed_total",
    "rss_bytes",
    "active_workers",
    "cache_bytes",
    "cache_entries",
    "leak_suspects",
)


class Change(msgspec.Struct, frozen=True):
    """One number in A (``before``) and in B (``after``), and ``after - before``."""

    before: int
    after: int
    delta: int

    @classmethod
    def of(cls, before: int, after: int) -> Change:
        """The change from ``before`` to ``after``."""
        return cls(before, after, after - before)


class Side(msgspec.Struct, frozen=True, kw_only=True):
    """Which snapshot a side of the diff is."""

    app: str
    pid: int
    timestamp: float
    uptime_s: float
    seq: int
    source: str = ""


class TypeDelta(msgspec.Struct, frozen=True, kw_only=True):
    """A resource type: live count and bytes."""

    type: str
    live: Change
    bytes: Change


class ComponentDelta(msgspec.Struct, frozen=True, kw_only=True):
    """A component matched by id; ``alive_*`` is None where the side does not have it."""

    id: str
    group: str
    type: str
    live: Change
    bytes: Change
    alive_before: bool | None
    alive_after: bool | None


class GroupDelta(msgspec.Struct, frozen=True, kw_only=True):
    """Components grouped by id without instance numbers: how many, live count, bytes."""

    group: str
    components: Change
    live: Change
    bytes: Change
    ids_before: list[str]
    ids_after: list[str]


class WorkerDelta(msgspec.Struct, frozen=True, kw_only=True):
    """Running workers of one component."""

    component_id: str
    running: Change


class SnapshotDiff(msgspec.Struct, frozen=True, kw_only=True):
    """What changed from snapshot A (``before``) to snapshot B (``after``).

    ``totals`` holds :data:`TOTALS`; ``by_type``, ``components``, ``groups`` and
    ``workers_by_component`` hold every key present on either side, largest growth first;
    ``new_suspects`` are B's leak suspects beyond the ones A already had with the same
    component, type and reason (the youngest of each such key).
    """

    schema: str = DIFF_SCHEMA
    before: Side
    after: Side
    elapsed_s: float
    same_process: bool
    totals: dict[str, Change]
    by_type: list[TypeDelta]
    components: list[ComponentDelta]
    groups: list[GroupDelta]
    workers_by_component: list[WorkerDelta]
    new_suspects: list[LeakSuspect]

    def to_dict(self) -> dict[str, object]:
        """Plain builtins, ready for any JSON encoder."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]


def diff_snapshots(before: Snapshot, after: Snapshot, *, before_source: str = "",
                   after_source: str = "") -> SnapshotDiff:
    """What changed from ``before`` (A) to ``after`` (B). Pure: no I/O, no clock."""
    return SnapshotDiff(
        before=_side(before, before_source),
        after=_side(after, after_source),
        elapsed_s=round(after.timestamp - before.timestamp, 3),
        same_process=same_process(before, after),
        totals=_totals(before, after),
        by_type=_by_type(before, after),
        components=_components(before, after),
        groups=_groups(before.components, after.components),
        workers_by_component=_workers(before, after),
        new_suspects=new_suspects(before.leak_suspects, after.leak_suspects),
    )


def same_process(a: Snapshot, b: Snapshot) -> bool:
    """Whether ``a`` and ``b`` come from one run of one process (not a reused pid).

    Both must agree, within a second, on when the process's inspector started.
    """
    return (a.pid == b.pid and a.app == b.app
            and abs((a.timestamp - a.uptime_s) - (b.timestamp - b.uptime_s)) < 1.0)


def _side(s: Snapshot, source: str) -> Side:
    return Side(app=s.app, pid=s.pid, timestamp=s.timestamp, uptime_s=s.uptime_s, seq=s.seq,
                source=source)


def _totals(a: Snapshot, b: Snapshot) -> dict[str, Change]:
    totals = {name: Change.of(getattr(a, name), getattr(b, name))
              for name in TOTALS if name != "leak_suspects"}
    totals["leak_suspects"] = Change.of(len(a.leak_suspects), len(b.leak_suspects))
    return {name: totals[name] for name in TOTALS}


def _growth_order(live: Change, size: Change, key: str) -> tuple[int, int, int, str]:
    # Largest byte growth first, then count growth, then what is largest in B.
    return (-size.delta, -live.delta, -size.after, key)


def _by_type(a: Snapshot, b: Snapshot) -> list[TypeDelta]:
    rows = []
    for name in set(a.by_type) | set(b.by_type):
        ta, tb = a.by_type.get(name), b.by_type.get(name)
        rows.append(TypeDelta(
            type=name,
            live=Change.of(ta.live if ta else 0, tb.live if tb else 0),
            bytes=Change.of(ta.bytes if ta else 0, tb.bytes if tb else 0),
        ))
    rows.sort(key=lambda r: _growth_order(r.live, r.bytes, r.type))
    return rows


def _components(a: Snapshot, b: Snapshot) -> list[ComponentDelta]:
    in_a = {c.id: c for c in a.components}
    in_b = {c.id: c for c in b.components}
    rows = []
    for cid in set(in_a) | set(in_b):
        ca, cb = in_a.get(cid), in_b.get(cid)
        latest = cb if cb is not None else in_a[cid]
        rows.append(ComponentDelta(
            id=cid,
            group=group_of(cid),
            type=latest.type,
            live=Change.of(ca.live if ca else 0, cb.live if cb else 0),
            bytes=Change.of(ca.bytes if ca else 0, cb.bytes if cb else 0),
            alive_before=ca.alive if ca else None,
            alive_after=cb.alive if cb else None,
        ))
    rows.sort(key=lambda r: _growth_order(r.live, r.bytes, r.id))
    return rows


def _groups(a: Iterable[ComponentStats], b: Iterable[ComponentStats]) -> list[GroupDelta]:
    def index(comps: Iterable[ComponentStats]) -> dict[str, list[ComponentStats]]:
        groups: dict[str, list[ComponentStats]] = {}
        for c in comps:
            groups.setdefault(group_of(c.id), []).append(c)
        return groups

    ga, gb = index(a), index(b)
    rows = []
    for name in set(ga) | set(gb):
        ma, mb = ga.get(name, []), gb.get(name, [])
        rows.append(GroupDelta(
            group=name,
            components=Change.of(len(ma), len(mb)),
            live=Change.of(sum(c.live for c in ma), sum(c.live for c in mb)),
            bytes=Change.of(sum(c.bytes for c in ma), sum(c.bytes for c in mb)),
            ids_before=sorted(c.id for c in ma),
            ids_after=sorted(c.id for c in mb),
        ))
    rows.sort(key=lambda r: _growth_order(r.live, r.bytes, r.group))
    return rows


def _workers(a: Snapshot, b: Snapshot) -> list[WorkerDelta]:
    ra = Counter(w.component_id for w in a.workers if w.running)
    rb = Counter(w.component_id for w in b.workers if w.running)
    rows = [WorkerDelta(component_id=cid, running=Change.of(ra[cid], rb[cid]))
            for cid in set(ra) | set(rb)]
    rows.sort(key=lambda r: (-r.running.delta, -r.running.after, r.component_id))
    return rows


def new_suspects(before: Iterable[LeakSuspect], after: Iterable[LeakSuspect]
                 ) -> list[LeakSuspect]:
    """Suspects of ``after`` that ``before`` did not have.

    Suspects are compared by (component id, resource type, reason) - never by resource id,
    which is another number in another run. For each such key, ``after`` has as many new
    suspects as it has more than ``before``: its youngest ones.
    """
    had = Counter((s.component_id, s.resource_type, s.reason) for s in before)
    by_key: dict[tuple[str, str, str], list[LeakSuspect]] = {}
    for s in after:
        by_key.setdefault((s.component_id, s.resource_type, s.reason), []).append(s)
    found = []
    for key, suspects in by_key.items():
        extra = len(suspects) - had[key]
        if extra > 0:
            found.extend(sorted(suspects, key=lambda s: (s.age_s, s.resource_id))[:extra])
    found.sort(key=lambda s: (s.component_id, s.resource_type, s.reason, s.age_s))
    return found
