"""The report of ``resinspect diff`` (cli/render/diff.py): both sides named, growth in the
tables, and the width that shows every id whole (the command: tests/fleet/test_diff.py)."""

from __future__ import annotations

from cli.render.diff import DiffReport
from inspector.fleet.budgets import check_budgets, parse_rules
from inspector.fleet.diff import diff_snapshots
from inspector.metrics.snapshot import ComponentStats
from tests.cli.conftest import LONG_ID, lines_with, make_snapshot, text_of


def _report() -> DiffReport:
    before = make_snapshot()
    grown = ComponentStats(id=LONG_ID, type="worker_owner", live=4, bytes=4096, alive=True)
    after = make_snapshot(components=[*before.components, grown], live_resources=9)
    budgets = check_budgets(parse_rules(["live>+3"]), before, after)
    return DiffReport(diff_snapshots(before, after, before_source="a.json",
                                     after_source="b.json"), budgets)


def test_the_report_names_both_sides_and_what_grew() -> None:
    report = _report()
    out = text_of(report, width=report.required_width())
    assert out.startswith("A: a.json  tracked-app pid 4242")
    assert "B: b.json" in out
    (row,) = lines_with(out, LONG_ID)
    assert row.split()[:5] == [LONG_ID, "worker_owner", "0", "4", "+4"]
    (budget,) = lines_with(out, "live>+3")
    assert "EXCEEDED" in budget


def test_required_width_keeps_every_id_on_its_row() -> None:
    report = _report()
    assert report.required_width() > len(LONG_ID)
    out = text_of(report, width=report.required_width())
    assert len(lines_with(out, LONG_ID)) == 1
