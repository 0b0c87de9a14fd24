"""The parts every view is built from (cli/render/table.py): escaped names, a clock that
survives hostile timestamps, natural order, and a table that never cuts its key."""

from __future__ import annotations

from rich.text import Text

from cli.render.table import MAX_NAME, Col, KeyedTable, clock, name, natural_key, one_line
from tests.cli.conftest import LONG_ID, lines_with, text_of


def test_names_are_escaped_and_cut_for_display() -> None:
    assert name("evil\x1b[2J\u202e") == "evil\\x1b[2J\\u202e"
    assert len(name("x" * 10_000)) <= MAX_NAME
    assert one_line("a\n  b\tc", 80) == "a b c"


def test_a_clock_shows_any_number_a_file_holds() -> None:
    assert clock(float("nan")) == "t=nan"
    assert clock(1e308) == "t=1e+308"
    assert len(clock(1_700_000_000.0)) == len("12:00:00")


def test_natural_order_compares_digit_runs_as_numbers() -> None:
    assert sorted(["Tab#10", "tab#2", "Tab#1"], key=natural_key) == ["Tab#1", "tab#2", "Tab#10"]


def _table(key: str) -> KeyedTable:
    return KeyedTable("Components", [Col("Component"), Col("Live", "right"),
                                     Col("Note", wrap=True)],
                      [[key, "3", "a note"], ["Short", "1", Text("\x1b[31mred")]])


def test_a_table_that_fits_keeps_one_row_a_line() -> None:
    table = _table("Tab#1")
    out = text_of(table, width=table.required_width())
    (row,) = lines_with(out, "Tab#1")
    assert row.split() == ["Tab#1", "3", "a", "note"]
    assert "\\x1b[31mred" in out  # a Text cell goes through the sanitiser too


def test_a_narrow_console_stacks_rows_rather_than_cut_the_key() -> None:
    table = _table(LONG_ID)
    assert table.required_width() > 60
    out = text_of(table, width=60)
    assert LONG_ID[:60] in out.replace("\n", "")  # the id, folded at worst, never cut
    assert any(line.strip() == "live 3  note a note" for line in out.splitlines())


def test_an_empty_table_says_so() -> None:
    out = text_of(KeyedTable("Components", [Col("Component")], [], empty="none yet"))
    assert out.splitlines() == ["Components", "  none yet"]
