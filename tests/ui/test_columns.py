"""How a column shows and sorts its raw values."""

from __future__ import annotations

from inspector.ui.columns import Column


def test_cells_are_shown_in_the_shared_units() -> None:
    assert Column("b", "bytes").display(1_048_575) == "1.0 MiB"
    assert Column("t", "ms").display(12.345) == "12.3"
    assert Column("t", "seconds").display(4.0) == "4.0"
    assert Column("ok", "bool").display(0) == "no"
    assert Column("n", "int").display(7) == "7"
    assert Column("name").display(None) == ""


def test_missing_values_sort_first_as_their_kind() -> None:
    assert Column("n", "int").sort_key(None) == -1
    assert Column("name").sort_key(None) == ""
    assert Column("n", "bytes").sort_key(5) == 5
    assert Column("n", "age").numeric
    assert not Column("name").numeric
