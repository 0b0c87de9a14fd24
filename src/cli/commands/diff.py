"""``resinspect diff``: what grew between two snapshots or recordings, and budgets on it.

Which snapshots are compared:

- ``diff A B``: the last snapshot of each file (a snapshot file is its only snapshot, a
  recording ends in the state it recorded last);
- ``diff FILE``: the first and the last snapshot of one recording.

Components are matched by id and also grouped by id without instance numbers, so runs that
numbered their tabs differently still compare (``inspector.fleet.diff``). ``--fail-on``
rules (``inspector.fleet.budgets``) make the command a test: status 1, with each broken
rule named on one line of stderr, when any budget is exceeded; 0 otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from inspector.fleet.budgets import BudgetResult
    from inspector.fleet.diff import SnapshotDiff
    from inspector.metrics.snapshot import Snapshot

_RULE_HELP = ("Fail (status 1) when RULE is broken; repeatable. METRIC[:NAME]>[+]LIMIT, "
              "e.g. live:MediaAnalysisController>0 (in B), workers>0, suspects>0, "
              "live>+100 or cache_bytes>+10MB (growth from A to B). Metrics: live, bytes, "
              "workers, suspects, cache_bytes, cache_entries, rss_bytes; NAME is a type, a "
              "suspect reason, a component id or a component group (id without #n); units "
              "B, KB, KiB, MB, MiB, GB, GiB. instances:CLASS counts components still alive, "
              "whatever they hold (instances:TabController>0). A rule that cannot be read "
              "is a usage error (status 2).")


@click.command()
@click.argument("a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--json", "as_json", is_flag=True,
              help="The diff and the budgets as JSON (schema resinspect.diff/1).")
@click.option("--fail-on", "rules", multiple=True, metavar="RULE", help=_RULE_HELP)
def diff(a: Path, b: Path | None, as_json: bool, rules: tuple[str, ...]) -> None:
    """What grew from snapshot A to snapshot B, by type and by component.

    A and B are snapshot files (`resinspect snapshot -o`) or recordings (`resinspect
    record`), of which the last snapshot counts. With A alone, A must be a recording: its
    first snapshot is compared with its last.
    """
    from inspector.fleet.budgets import check_budgets, parse_rules, raise_if_broken
    from inspector.fleet.diff import diff_snapshots

    parsed = parse_rules(rules)  # a bad rule fails before any file is read
    before, after, before_label, after_label = _load(a, b)
    result = diff_snapshots(before, after, before_source=before_label,
                            after_source=after_label)
    budgets = check_budgets(parsed, before, after)
    if as_json:
        _print_json(result, budgets)
    else:
        _print_report(result, budgets)
    raise_if_broken(budgets)


def _load(a: Path, b: Path | None) -> tuple[Snapshot, Snapshot, str, str]:
    from inspector.errors import BadInput
    from inspector.fleet.recording import first_and_last

    # Streamed: only the first and last snapshot of each file are held, whatever its size.
    a_first, a_last, a_count = first_and_last(a)
    if b is None:
        if a_count < 2:
            raise BadInput(f"{a} holds one snapshot: give a second file to compare it with, "
                           "or a recording of several")
        return a_first, a_last, f"{a} (first of {a_count})", f"{a} (last of {a_count})"
    _, b_last, b_count = first_and_last(b)
    return a_last, b_last, _label(a, a_count), _label(b, b_count)


def _label(path: Path, count: int) -> str:
    return str(path) if count == 1 else f"{path} (last of {count})"


def _print_json(result: SnapshotDiff, budgets: list[BudgetResult]) -> None:
    import msgspec

    data = result.to_dict()
    data["budgets"] = msgspec.to_builtins(budgets)
    click.echo(msgspec.json.format(msgspec.json.encode(data), indent=2))


def _print_report(result: SnapshotDiff, budgets: list[BudgetResult]) -> None:
    from cli.console import make_console
    from cli.render.diff import DiffReport

    console = make_console()
    report = DiffReport(result, budgets)
    if not console.is_terminal:  # a pipe has no width of its own: every id whole
        console.width = max(console.width, report.required_width())
    console.print(report)
