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
    from rich.console import RenderableType
    from rich.text import Text

    from cli.render import Col, KeyedTable
    from inspector.fleet.budgets import BudgetResult
    from inspector.fleet.diff import Change, Side, SnapshotDiff
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


# -- the report ------------------------------------------------------------------------------


def _print_report(result: SnapshotDiff, budgets: list[BudgetResult]) -> None:
    from rich.cells import cell_len
    from rich.console import Group
    from rich.text import Text

    from cli.console import make_console

    console = make_console()
    tables = [t for t in (_totals(result), _by_type(result), _groups(result),
                          _components(result), _workers(result), _suspects(result),
                          _budgets(budgets)) if t is not None]
    header = _header(result)
    if not console.is_terminal:
        # A pipe has no width of its own: room for every id whole on its row (as `top`),
        # and for each header line (file paths) unbroken.
        console.width = max(console.width, *(t.required_width() for t in tables),
                            *(cell_len(line) for line in header.plain.splitlines()))
    parts: list[RenderableType] = [header]
    for table in tables:
        parts += [Text(""), table]
    console.print(Group(*parts))


def _header(result: SnapshotDiff) -> Text:
    from rich.text import Text

    def side(name: str, s: Side) -> Text:
        from cli.render import clock
        from cli.render import name as shown

        at = clock(s.timestamp, "%Y-%m-%d %H:%M:%S")
        return Text.assemble((f"{name}: ", "bold"), f"{shown(s.source or '-', 4096)}  ",
                             (shown(s.app), "cyan"), f" pid {s.pid} at {at} (seq {s.seq})")

    text = Text()
    text.append_text(side("A", result.before))
    text.append("\n")
    text.append_text(side("B", result.after))
    text.append(f"\nB is {result.elapsed_s:+.1f} s after A", style="dim")
    if not result.same_process:
        text.append("; different processes: components compare by id and by group",
                    style="dim")
    return text


def _delta(change: Change, *, is_bytes: bool) -> Text:
    from rich.text import Text

    from inspector.metrics.units import format_bytes

    d = change.delta
    shown = format_bytes(abs(d)) if is_bytes else str(abs(d))
    if d > 0:
        return Text("+" + shown, style="red")  # growth is what this command hunts
    if d < 0:
        return Text("-" + shown, style="green")
    return Text(shown, style="dim")


def _value(n: int, *, is_bytes: bool) -> str:
    from inspector.metrics.units import format_bytes

    return format_bytes(n) if is_bytes else str(n)


_TOTAL_NAMES = {
    "live_resources": ("Live resources", False),
    "tracked_bytes": ("Tracked bytes", True),
    "created_total": ("Created", False),
    "destroyed_total": ("Destroyed", False),
    "rss_bytes": ("RSS", True),
    "active_workers": ("Active workers", False),
    "cache_bytes": ("Cache bytes", True),
    "cache_entries": ("Cache entries", False),
    "leak_suspects": ("Leak suspects", False),
}


def _totals(result: SnapshotDiff) -> KeyedTable:
    from cli.render import Col, KeyedTable

    rows: list[list[str | Text]] = []
    for name, change in result.totals.items():
        label, is_bytes = _TOTAL_NAMES.get(name, (name, False))
        rows.append([label, _value(change.before, is_bytes=is_bytes),
                     _value(change.after, is_bytes=is_bytes), _delta(change, is_bytes=is_bytes)])
    return KeyedTable("Totals", [Col("Metric"), Col("A", "right"), Col("B", "right"),
                                 Col("Change", "right")], rows)


def _live_bytes_cols() -> list[Col]:
    from cli.render import Col

    return [Col("Live A", "right"), Col("Live B", "right"), Col("Change", "right"),
            Col("Bytes A", "right"), Col("Bytes B", "right"), Col("Change", "right")]


def _live_bytes_cells(live: Change, size: Change) -> list[str | Text]:
    return [str(live.before), str(live.after), _delta(live, is_bytes=False),
            _value(size.before, is_bytes=True), _value(size.after, is_bytes=True),
            _delta(size, is_bytes=True)]


def _unchanged_footer(hidden: int, what: str) -> str:
    return f"{hidden} unchanged {what} not shown (--json has them all)" if hidden else ""


def _by_type(result: SnapshotDiff) -> KeyedTable:
    from cli.render import Col, KeyedTable

    changed = [t for t in result.by_type if t.live.delta or t.bytes.delta]
    return KeyedTable(
        "Resources by type", [Col("Type"), *_live_bytes_cols()],
        [[t.type, *_live_bytes_cells(t.live, t.bytes)] for t in changed],
        empty="no change", footer=_unchanged_footer(len(result.by_type) - len(changed), "types"))


def _components(result: SnapshotDiff) -> KeyedTable:
    from rich.text import Text

    from cli.render import Col, KeyedTable

    def state(alive: bool | None) -> Text:
        if alive is None:
            return Text("absent", style="dim")
        return Text("alive", style="green") if alive else Text("gone", style="red")

    from cli.tui import natural_key

    changed = sorted((c for c in result.components if c.live.delta or c.bytes.delta),
                     key=lambda c: (-c.bytes.delta, -c.live.delta, natural_key(c.id)))
    shown = changed[:INSTANCE_ROWS]
    footers = [_unchanged_footer(len(result.components) - len(changed), "components")]
    if len(shown) < len(changed):
        footers.append(f"{len(changed) - len(shown)} smaller changes not shown "
                       "(--json has them all)")
    return KeyedTable(
        f"Components (matched by id), largest growth first: {len(shown)} of {len(changed)}",
        [Col("Component"), Col("Type"), *_live_bytes_cols(), Col("In B")],
        [[c.id, c.type, *_live_bytes_cells(c.live, c.bytes), state(c.alive_after)]
         for c in shown],
        empty="no change", footer="; ".join(f for f in footers if f))


#: Instances listed one by one under the classes table; the rest are counted.
INSTANCE_ROWS = 15


def _groups(result: SnapshotDiff) -> KeyedTable | None:
    from cli.render import Col, KeyedTable

    # One row per class (id without #n) with how many instances, largest growth first: 30
    # leaked tabs read as one line that says 30, not 30 lines.
    changed = sorted((g for g in result.groups
                      if g.live.delta or g.bytes.delta or g.components.delta),
                     key=lambda g: (-g.bytes.delta, -g.live.delta, -g.components.delta,
                                    g.group))
    if not changed:
        return None
    return KeyedTable(
        "Component classes (ids without #n), largest growth first",
        [Col("Class"), Col("Count", "right"), *_live_bytes_cols()],
        [[g.group, f"{g.components.before} → {g.components.after}",
          *_live_bytes_cells(g.live, g.bytes)] for g in changed])


def _workers(result: SnapshotDiff) -> KeyedTable:
    from cli.render import Col, KeyedTable

    changed = [w for w in result.workers_by_component if w.running.delta]
    return KeyedTable(
        "Running workers by component",
        [Col("Component"), Col("A", "right"), Col("B", "right"), Col("Change", "right")],
        [[w.component_id, str(w.running.before), str(w.running.after),
          _delta(w.running, is_bytes=False)] for w in changed],
        empty="no change")


def _suspects(result: SnapshotDiff) -> KeyedTable:
    from cli.render import Col, KeyedTable
    from inspector.metrics.units import format_duration

    rows: list[list[str | Text]] = [
        [s.component_id, s.resource_type, s.resource_id or "-", s.reason,
         format_duration(s.age_s), s.detail]
        for s in result.new_suspects]
    return KeyedTable(
        f"New leak suspects in B ({len(rows)})",
        [Col("Component"), Col("Type"), Col("Resource"), Col("Reason", style="yellow"),
         Col("Age", "right"), Col("Detail", wrap=True)],
        rows, empty="none")


def _budgets(budgets: list[BudgetResult]) -> KeyedTable | None:
    from rich.text import Text

    from cli.render import Col, KeyedTable
    from inspector.fleet.budgets import format_value

    if not budgets:
        return None
    rows: list[list[str | Text]] = []
    for r in budgets:
        note = {"nothing": "matches nothing in A or B", "group": "summed over the group"
                }.get(r.matched, "")
        rows.append([r.rule, format_value(r),
                     Text("EXCEEDED", style="bold red") if r.broken else Text("ok", "green"),
                     note])
    return KeyedTable("Budgets (value: in B, or +growth from A to B)",
                      [Col("Rule"), Col("Value", "right"), Col("Result"),
                                  Col("Note", wrap=True)], rows)
