"""Budgets for ``resinspect diff --fail-on``: a small rule language and its check.

A rule says when to fail::

    METRIC[:NAME] > LIMIT        fail when METRIC (of NAME) in B is over LIMIT
    METRIC[:NAME] > +LIMIT       fail when it grew from A to B by more than LIMIT
    (>= instead of > includes the limit itself)

``METRIC`` is one of :data:`METRICS`. ``NAME`` picks part of it: a resource type
(``bytes:thumbnail``), a leak-suspect reason (``suspects:orphan_worker``), or a component -
by its exact id (``live:MediaAnalysisController#2``) or by its group, the id without
instance numbers (``live:MediaAnalysisController`` sums every instance). ``instances``
counts components still alive, whatever they hold: a closed tab whose controller released
everything but is still referenced breaks ``instances:TabController>0``. ``LIMIT`` is a
whole number; byte metrics take a unit: B, KB/MB/GB (powers of 1000) or KiB/MiB/GiB (powers
of 1024), case-insensitive, decimals allowed (``1.5MiB``).

Examples: ``live:MediaAnalysisController>0``, ``workers>0``, ``cache_bytes>+10MB``,
``suspects>0``, ``live>+100``, ``bytes:thumbnail>+1MiB``, ``instances:TabController>0``,
``hangs>+0`` (a stall of the GUI thread between A and B), ``max_hang_ms>500``.

A rule that cannot be read is a usage error (:class:`~inspector.errors.BadRule`, exit 2), so a
CI job never mistakes a typo for a broken budget (``BudgetExceeded``, exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import msgspec

from ..errors import BadRule, BudgetExceeded
from ..metrics.snapshot import (
    GROWTH,
    ORPHAN_WORKER,
    RETAINED_AFTER_CLEANUP,
    LeakSuspect,
    Snapshot,
    group_of,
)
from ..metrics.units import format_bytes

TargetKind = Literal["type", "reason", "component"]

#: Resource type names (``ResourceType`` values). Spelled out rather than imported: the
#: ``inspector.resources`` package loads Qt, and this module must not.
KNOWN_TYPES = frozenset({"worker", "thread", "timer", "qobject", "widget", "file_handle",
                         "cache", "thumbnail", "memory", "network", "custom"})
KNOWN_REASONS = frozenset({RETAINED_AFTER_CLEANUP, ORPHAN_WORKER, GROWTH})

UNITS: dict[str, int] = {
    "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}
_UNIT_NAMES = "B, KB, KiB, MB, MiB, GB, GiB"


@dataclass(frozen=True)
class MetricSpec:
    """A metric rules can name: whether it is in bytes and what ``:NAME`` may pick."""

    help: str
    is_bytes: bool
    targets: tuple[TargetKind, ...]


METRICS: dict[str, MetricSpec] = {
    "live": MetricSpec("live resources (of a type or a component)", False,
                       ("type", "component")),
    "bytes": MetricSpec("tracked bytes (of a type or a component)", True,
                        ("type", "component")),
    "workers": MetricSpec("running workers (of a component)", False, ("component",)),
    # Components, not resources: a leaked controller that released everything still counts.
    "instances": MetricSpec("components still alive (of a class: the id without #n)", False,
                            ("component",)),
    "suspects": MetricSpec("leak suspects (of a reason, a type or a component)", False,
                           ("reason", "type", "component")),
    "cache_bytes": MetricSpec("bytes of live caches and thumbnails", True, ()),
    "cache_entries": MetricSpec("live caches and thumbnails", False, ()),
    "rss_bytes": MetricSpec("resident memory of the process", True, ()),
    "hangs": MetricSpec("stalls of the GUI thread recorded since start (whole run)", False, ()),
    "max_hang_ms": MetricSpec("the longest stall of the GUI thread since start, in ms", False,
                              ()),
}

_OPERATOR = re.compile(r">=|<=|==|!=|>|<|=")
_LIMIT = re.compile(r"(?P<plus>\+)?(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[A-Za-z]+)?")
_FORM = ("expected METRIC[:NAME]>[+]LIMIT, e.g. live:MediaAnalysisController>0 "
         "or cache_bytes>+10MB")


@dataclass(frozen=True)
class Rule:
    """A parsed ``--fail-on`` rule. ``delta``: the limit applies to growth from A to B."""

    text: str
    metric: str
    target: str | None
    operator: Literal[">", ">="]
    limit: int
    delta: bool

    def broken_by(self, value: int) -> bool:
        """Whether ``value`` breaks this budget."""
        return value > self.limit if self.operator == ">" else value >= self.limit


class BudgetResult(msgspec.Struct, frozen=True, kw_only=True):
    """A rule checked against two snapshots.

    ``value`` is B's value, or the growth from A to B for a ``delta`` rule. ``matched``
    says what ``:NAME`` picked: ``total`` (no name), ``type``, ``reason``, ``component``
    (an exact id), ``group`` (ids without instance numbers) or ``nothing`` - a name found
    on neither side, whose value is 0.
    """

    rule: str
    metric: str
    target: str | None
    delta: bool
    limit: int
    value: int
    before: int
    after: int
    broken: bool
    matched: str


def parse_rule(text: str, *, source: str = "--fail-on") -> Rule:
    """Parse one rule; ``BadRule`` (a usage error) with one line saying what is wrong.

    ``source`` names where the rule was written, for that line (``--fail-on``, a marker).
    """
    def bad(why: str) -> BadRule:
        return BadRule(f"bad {source} rule {text!r}: {why}")

    found = _OPERATOR.search(text)
    if found is None:
        raise bad(_FORM)
    operator = found.group()
    if operator not in (">", ">="):
        raise bad(f"{operator!r} is not a budget: a rule says when to fail, with > or >= "
                  "(e.g. live>0)")
    left, right = text[:found.start()].strip(), text[found.end():].strip()
    metric, spec, target = _parse_subject(left, bad)
    limit, delta = _parse_limit(right, metric, spec, bad)
    return Rule(text=text.strip(), metric=metric, target=target or None,
                operator=">" if operator == ">" else ">=", limit=limit, delta=delta)


def _parse_subject(left: str, bad: Callable[[str], BadRule]) -> tuple[str, MetricSpec, str]:
    """``METRIC[:NAME]``, the left of the operator: the metric (lower-cased), its spec and
    the name (``""`` for none); ``bad`` makes the error of a rule that cannot be read."""
    metric, colon, target = (part.strip() for part in left.partition(":"))
    metric = metric.lower()
    if not metric:
        raise bad(f"no metric; {_FORM}")
    spec = METRICS.get(metric)
    if spec is None:
        raise bad(f"unknown metric {metric!r} (one of: {', '.join(METRICS)})")
    if colon and not target:
        raise bad(f"nothing after ':' (name a {' or '.join(spec.targets) or 'total'})")
    if target and not spec.targets:
        raise bad(f"{metric} is a total and takes no ':NAME'")
    return metric, spec, target


def _parse_limit(right: str, metric: str, spec: MetricSpec,
                 bad: Callable[[str], BadRule]) -> tuple[int, bool]:
    """``[+]NUMBER[UNIT]``, the right of the operator: the limit as a whole number (of
    bytes, for a byte metric) and whether it limits growth (``+``)."""
    limit_match = _LIMIT.fullmatch(right)
    if limit_match is None:
        if right.startswith("-"):
            raise bad("a limit is never negative: +N limits growth, N the value in B")
        raise bad(f"bad limit {right!r}: expected [+]NUMBER[UNIT], e.g. 0, +100 or +10MB")
    number, unit = limit_match.group("number"), limit_match.group("unit")
    value = float(number) * _unit_factor(unit, metric, spec, bad)
    # A fraction of a count (or of a byte) is no limit anyone means: say so rather than
    # round it silently.
    if value != int(value):
        raise bad(f"{metric} limit must be a whole number{' of bytes' if spec.is_bytes else ''}"
                  f", not {number}{unit or ''}")
    return int(value), limit_match.group("plus") is not None


def _unit_factor(unit: str | None, metric: str, spec: MetricSpec,
                 bad: Callable[[str], BadRule]) -> int:
    """What ``unit`` multiplies a limit by: 1 without one; only byte metrics take one."""
    if unit is None:
        return 1
    if not spec.is_bytes:
        raise bad(f"{metric} counts {spec.help}; it takes no unit ({unit!r})")
    factor = UNITS.get(unit.lower())
    if factor is None:
        raise bad(f"unknown unit {unit!r} (one of: {_UNIT_NAMES})")
    return factor


def parse_rules(texts: list[str] | tuple[str, ...], *, source: str = "--fail-on"
                ) -> list[Rule]:
    """Parse every rule (the first bad one is the error)."""
    return [parse_rule(text, source=source) for text in texts]


def evaluate(rule: Rule, before: Snapshot, after: Snapshot) -> BudgetResult:
    """Check ``rule`` against A (``before``) and B (``after``)."""
    kind = _target_kind(rule, before, after)
    value_before = _value(rule, kind, before)
    value_after = _value(rule, kind, after)
    matched: str = kind or "total"
    if kind == "component":
        matched = _component_match(rule.target or "", before, after)
    value = value_after - value_before if rule.delta else value_after
    return BudgetResult(rule=rule.text, metric=rule.metric, target=rule.target,
                        delta=rule.delta, limit=rule.limit, value=value,
                        before=value_before, after=value_after,
                        broken=rule.broken_by(value), matched=matched)


def check_budgets(rules: list[Rule], before: Snapshot, after: Snapshot) -> list[BudgetResult]:
    """Every rule checked, in the order given."""
    return [evaluate(rule, before, after) for rule in rules]


def raise_if_broken(results: list[BudgetResult]) -> None:
    """``BudgetExceeded`` naming each broken rule and its value, in one line; else nothing."""
    broken = [r for r in results if r.broken]
    if not broken:
        return
    what = "; ".join(f"{r.rule} ({describe_value(r)})" for r in broken)
    raise BudgetExceeded(f"{len(broken)} budget{'s' if len(broken) > 1 else ''} "
                         f"exceeded: {what}")


def format_value(result: BudgetResult) -> str:
    """The value a rule was checked against: ``3``, ``12.0 MiB``, ``+4`` for a growth."""
    is_bytes = METRICS[result.metric].is_bytes
    shown = format_bytes(result.value) if is_bytes else str(result.value)
    return f"+{shown}" if result.delta and result.value >= 0 else shown


def describe_value(result: BudgetResult) -> str:
    """``is 3``, ``+12.0 MiB from A to B``: the value of a rule, for a sentence."""
    shown = format_value(result)
    return f"{shown} from A to B" if result.delta else f"is {shown}"


def _target_kind(rule: Rule, a: Snapshot, b: Snapshot) -> TargetKind | None:
    if rule.target is None:
        return None
    allowed = METRICS[rule.metric].targets
    if "reason" in allowed and (rule.target in KNOWN_REASONS or any(
            s.reason == rule.target for s in (*a.leak_suspects, *b.leak_suspects))):
        return "reason"
    if "type" in allowed and (rule.target in KNOWN_TYPES or rule.target in a.by_type
                              or rule.target in b.by_type):
        return "type"
    return "component"


def _picks(cid: str, target: str) -> bool:
    return cid == target or group_of(cid) == target


def _component_match(target: str, a: Snapshot, b: Snapshot) -> str:
    """``component`` when some id is ``target`` itself, ``group`` when ids match only
    without their instance numbers, ``nothing`` when no id matches on either side."""
    ids = {c.id for s in (a, b) for c in s.components}
    ids.update(w.component_id for s in (a, b) for w in s.workers)
    ids.update(x.component_id for s in (a, b) for x in s.leak_suspects)
    if target in ids:
        return "component"
    return "group" if any(group_of(cid) == target for cid in ids) else "nothing"


def _suspects(s: Snapshot, picks: Callable[[LeakSuspect], bool]) -> int:
    """Confirmed suspects that ``picks`` chooses, each grouped row counting its members.

    A pending suspect (no full collection since its release yet) may be garbage waiting in
    a cycle: it breaks no budget.
    """
    return sum(x.count for x in s.leak_suspects if x.confirmed and picks(x))


def _value(rule: Rule, kind: TargetKind | None, s: Snapshot) -> int:
    """The rule's number in ``s``."""
    metric, target = rule.metric, rule.target
    if kind is None or target is None:
        totals = {"live": s.live_resources, "bytes": s.tracked_bytes,
                  "workers": s.active_workers,
                  "instances": sum(1 for c in s.components if c.alive),
                  "suspects": _suspects(s, lambda x: True),
                  "cache_bytes": s.cache_bytes, "cache_entries": s.cache_entries,
                  "rss_bytes": s.rss_bytes, "hangs": s.hang_count,
                  "max_hang_ms": round(s.hang_max_ms)}
        return totals[metric]
    if kind == "type":
        if metric == "suspects":
            return _suspects(s, lambda x: x.resource_type == target)
        stats = s.by_type.get(target)
        if stats is None:
            return 0
        return stats.live if metric == "live" else stats.bytes
    if kind == "reason":
        return _suspects(s, lambda x: x.reason == target)
    if metric == "workers":
        return sum(1 for w in s.workers if w.running and _picks(w.component_id, target))
    if metric == "suspects":
        return _suspects(s, lambda x: _picks(x.component_id, target))
    if metric == "instances":
        return sum(1 for c in s.components if c.alive and _picks(c.id, target))
    return sum(c.live if metric == "live" else c.bytes
               for c in s.components if _picks(c.id, target))
