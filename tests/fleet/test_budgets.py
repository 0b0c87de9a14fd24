"""``--fail-on`` rules: the parser, its errors, and the check against two snapshots."""

from __future__ import annotations

import pytest

from inspector.errors import BadInput, BadRule, BudgetExceeded
from inspector.fleet.budgets import (
    check_budgets,
    evaluate,
    parse_rule,
    raise_if_broken,
)
from inspector.metrics.snapshot import TypeStats
from tests.fleet.conftest import comp, make_snapshot, suspect, worker


@pytest.mark.parametrize(("text", "metric", "target", "operator", "limit", "delta"), [
    ("live:MediaAnalysisController>0", "live", "MediaAnalysisController", ">", 0, False),
    ("workers>0", "workers", None, ">", 0, False),
    ("cache_bytes>+10MB", "cache_bytes", None, ">", 10_000_000, True),
    ("suspects>0", "suspects", None, ">", 0, False),
    ("live>+100", "live", None, ">", 100, True),
    ("bytes:thumbnail>+1MiB", "bytes", "thumbnail", ">", 1024 * 1024, True),
    (" live : Tab#2 >= 3 ", "live", "Tab#2", ">=", 3, False),
    ("LIVE>1", "live", None, ">", 1, False),
    ("bytes>1.5KiB", "bytes", None, ">", 1536, False),
    ("rss_bytes>+2 gib", "rss_bytes", None, ">", 2 * 1024**3, True),
    ("cache_bytes>512B", "cache_bytes", None, ">", 512, False),
    ("bytes>3kb", "bytes", None, ">", 3000, False),
    ("bytes>1GB", "bytes", None, ">", 10**9, False),
    ("suspects:orphan_worker>0", "suspects", "orphan_worker", ">", 0, False),
    ("live:MainWindow.tabs.Tab#3.Loader>+0", "live", "MainWindow.tabs.Tab#3.Loader", ">", 0,
     True),
    ("instances:LoggerTabController>0", "instances", "LoggerTabController", ">", 0, False),
    ("instances>+0", "instances", None, ">", 0, True),
])
def test_rules_parse(text: str, metric: str, target: str | None, operator: str, limit: int,
                     delta: bool) -> None:
    rule = parse_rule(text)
    assert (rule.metric, rule.target, rule.operator, rule.limit, rule.delta) == (
        metric, target, operator, limit, delta)
    assert rule.text == text.strip()


@pytest.mark.parametrize(("text", "why"), [
    ("", "expected METRIC[:NAME]>[+]LIMIT"),
    ("live", "expected METRIC[:NAME]>[+]LIMIT"),
    ("live<5", "'<' is not a budget"),
    ("live=5", "'=' is not a budget"),
    ("live==5", "'==' is not a budget"),
    (">5", "no metric"),
    ("leaks>0", "unknown metric 'leaks' (one of: live, bytes, workers"),
    ("cache_bytes:thumbnail>0", "cache_bytes is a total and takes no ':NAME'"),
    ("live:>0", "nothing after ':'"),
    ("live>-1", "a limit is never negative"),
    ("live>", "bad limit ''"),
    ("live>many", "bad limit 'many'"),
    ("live>>1", "bad limit '>1'"),
    ("live>5MB", "takes no unit ('MB')"),
    ("workers>+1k", "takes no unit ('k')"),
    ("bytes>5XB", "unknown unit 'XB' (one of: B, KB, KiB, MB, MiB, GB, GiB)"),
    ("live>1.5", "whole number, not 1.5"),
    ("bytes>0.5B", "whole number of bytes"),
    ("instances>5MB", "takes no unit ('MB')"),
    ("event_loop_lag_ms>100", "unknown metric 'event_loop_lag_ms'"),
])
def test_bad_rules_are_one_line_usage_errors(text: str, why: str) -> None:
    with pytest.raises(BadRule) as info:
        parse_rule(text)
    # A usage error (exit 2, as click's), never a broken budget (exit 1); still a BadInput.
    assert info.value.exit_code == 2
    assert isinstance(info.value, BadInput)
    assert BudgetExceeded.exit_code == 1
    message = str(info.value)
    assert message.startswith(f"bad --fail-on rule {text!r}: ")
    assert why in message
    assert "\n" not in message


def test_absolute_rules_read_b_and_delta_rules_the_growth() -> None:
    a = make_snapshot(live_resources=100, cache_bytes=1_000_000)
    b = make_snapshot(live_resources=150, cache_bytes=12_000_000)
    assert evaluate(parse_rule("live>120"), a, b).broken  # 150 in B
    assert not evaluate(parse_rule("live>+60"), a, b).broken  # grew by 50
    grew = evaluate(parse_rule("live>+49"), a, b)
    assert (grew.value, grew.before, grew.after, grew.broken) == (50, 100, 150, True)
    assert evaluate(parse_rule("cache_bytes>+10MB"), a, b).broken  # 11 MB growth
    assert not evaluate(parse_rule("cache_bytes>+11MB"), a, b).broken  # not over 11 MB
    assert evaluate(parse_rule("cache_bytes>=+11MB"), a, b).broken
    assert not evaluate(parse_rule("live>+100"), b, a).broken  # shrinking never breaks growth


def test_component_targets_match_an_id_or_its_group() -> None:
    a = make_snapshot(components=[comp("MediaAnalysisController#1", 2, 4096)])
    b = make_snapshot(components=[comp("MediaAnalysisController#2", 3, 8192),
                                  comp("MediaAnalysisController#3", 1, 100, alive=False),
                                  comp("Other#1", 7)])
    group = evaluate(parse_rule("live:MediaAnalysisController>0"), a, b)
    assert (group.value, group.matched, group.broken) == (4, "group", True)
    exact = evaluate(parse_rule("live:MediaAnalysisController#2>3"), a, b)
    assert (exact.value, exact.matched, exact.broken) == (3, "component", False)
    grown = evaluate(parse_rule("bytes:MediaAnalysisController>+4KiB"), a, b)
    assert (grown.before, grown.after, grown.value, grown.broken) == (4096, 8292, 4196, True)
    gone = evaluate(parse_rule("live:MediaAnalysisController#1>0"), a, b)
    assert (gone.value, gone.matched, gone.broken) == (0, "component", False)
    typo = evaluate(parse_rule("live:MediaAnalysisControler>0"), a, b)
    assert (typo.value, typo.matched, typo.broken) == (0, "nothing", False)


def test_instances_count_live_components_whatever_they_hold() -> None:
    # The case: closed tabs whose controllers released every resource but are
    # still referenced. live: sees nothing; instances: sees each controller.
    leaked = [comp(f"LoggerTabController#{n}", 0) for n in range(1, 16)]
    a = make_snapshot(components=[comp("CacheOwner", 3, 3000)])
    b = make_snapshot(components=[comp("CacheOwner", 3, 3000), *leaked,
                                  comp("LoggerTabController#16", 0, alive=False),
                                  comp("LoggerTabControllerX#1", 0)])
    live = evaluate(parse_rule("live:LoggerTabController>0"), a, b)
    assert (live.value, live.broken) == (0, False)
    instances = evaluate(parse_rule("instances:LoggerTabController>0"), a, b)
    # The gone #16 and the other class LoggerTabControllerX are not counted.
    assert (instances.value, instances.matched, instances.broken) == (15, "group", True)
    one = evaluate(parse_rule("instances:LoggerTabController#3>0"), a, b)
    assert (one.value, one.matched, one.broken) == (1, "component", True)
    grown = evaluate(parse_rule("instances>+15"), a, b)
    assert (grown.before, grown.after, grown.value, grown.broken) == (1, 17, 16, True)
    none = evaluate(parse_rule("instances:ResultsTab>0"), a, b)
    assert (none.value, none.matched, none.broken) == (0, "nothing", False)
    with pytest.raises(BudgetExceeded, match=r"instances:LoggerTabController>0 \(is 15\)"):
        raise_if_broken([instances])


def test_type_reason_and_worker_targets() -> None:
    a = make_snapshot()
    b = make_snapshot(
        by_type={"thumbnail": TypeStats(live=4, created=4, destroyed=0, bytes=3 * 1024**2),
                 "worker": TypeStats(live=3, created=3, destroyed=0, bytes=0)},
        workers=[worker("Tab#1", "w1"), worker("Tab#2", "w2"),
                 worker("Tab#2", "w3", running=False)],
        leak_suspects=[suspect("Tab#1", "w1"),
                       suspect("Tab#2", "t9", reason="retained_after_cleanup",
                               resource_type="thumbnail")],
    )
    thumbs = evaluate(parse_rule("bytes:thumbnail>+2MiB"), a, b)
    assert (thumbs.matched, thumbs.value, thumbs.broken) == ("type", 3 * 1024**2, True)
    assert evaluate(parse_rule("live:thumbnail>=4"), a, b).broken
    assert evaluate(parse_rule("live:cache>0"), a, b).value == 0  # a type, gone in B
    tab2 = evaluate(parse_rule("workers:Tab#2>0"), a, b)
    assert (tab2.value, tab2.broken) == (1, True)  # the stopped worker does not count
    assert evaluate(parse_rule("workers:Tab>1"), a, b).value == 2
    orphans = evaluate(parse_rule("suspects:orphan_worker>0"), a, b)
    assert (orphans.matched, orphans.value) == ("reason", 1)
    assert evaluate(parse_rule("suspects:thumbnail>0"), a, b).matched == "type"
    assert evaluate(parse_rule("suspects:Tab>1"), a, b).value == 2
    assert evaluate(parse_rule("suspects>1"), a, b).broken


def test_broken_budgets_raise_one_line_naming_each() -> None:
    a = make_snapshot(active_workers=0, cache_bytes=0)
    b = make_snapshot(active_workers=2, cache_bytes=20_000_000,
                      components=[comp("MediaAnalysisController#4", 2, 0)])
    rules = [parse_rule(text) for text in ("live:MediaAnalysisController>0", "workers>0",
                                           "cache_bytes>+10MB", "suspects>0")]
    results = check_budgets(rules, a, b)
    assert [r.broken for r in results] == [True, True, True, False]
    with pytest.raises(BudgetExceeded) as info:
        raise_if_broken(results)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("3 budgets exceeded: ")
    assert "live:MediaAnalysisController>0 (is 2)" in message
    assert "workers>0 (is 2)" in message
    assert "cache_bytes>+10MB (+19.1 MiB from A to B)" in message
    assert "suspects" not in message
    raise_if_broken([r for r in results if not r.broken])  # nothing broken: no error
