"""Budget rules on freezes: ``hangs`` (stalls recorded since start) and ``max_hang_ms``."""

from __future__ import annotations

import pytest

from inspector.errors import BadRule, BudgetExceeded
from inspector.fleet.budgets import check_budgets, parse_rule, raise_if_broken
from inspector.metrics.snapshot import Hang
from tests.fleet.conftest import make_snapshot


def with_hangs(*durations: float) -> object:
    return make_snapshot(
        hangs=[Hang(started=1.0 + i, duration_ms=d) for i, d in enumerate(durations)],
        hang_count=len(durations), hang_total_ms=sum(durations),
        hang_max_ms=max(durations, default=0.0))


def test_hang_rules_check_the_whole_run_count_and_the_longest_stall() -> None:
    before, after = with_hangs(250.0), with_hangs(250.0, 1200.0, 300.0)
    rules = [parse_rule(t) for t in ("hangs>0", "hangs>+1", "hangs>+2", "max_hang_ms>1000",
                                     "max_hang_ms>=1200", "max_hang_ms>1200")]
    results = check_budgets(rules, before, after)  # type: ignore[arg-type]
    assert [(r.value, r.broken) for r in results] == [
        (3, True), (2, True), (2, False), (1200, True), (1200, True), (1200, False)]
    with pytest.raises(BudgetExceeded, match=r"max_hang_ms>1000 \(is 1200\)"):
        raise_if_broken(results)


def test_hang_rules_are_totals_without_units() -> None:
    with pytest.raises(BadRule, match="takes no unit"):
        parse_rule("max_hang_ms>5s")
    with pytest.raises(BadRule, match="hangs is a total and takes no ':NAME'"):
        parse_rule("hangs:main>0")
