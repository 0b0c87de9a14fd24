"""The one sanitiser of untrusted names: safe, clip, csv_cell, encodable (issue 12)."""

from __future__ import annotations

import csv
import io
import os

import msgspec
import pytest

from inspector.metrics.exporters import snapshot_to_csv
from inspector.metrics.snapshot import ComponentStats
from inspector.metrics.text import clip, csv_cell, safe
from tests.cli.conftest import make_snapshot


@pytest.mark.parametrize(("raw", "shown"), [
    ("plain-id#3", "plain-id#3"),
    ("C:\\Users\\me", "C:\\Users\\me"),  # a clean path keeps its backslashes as they are
    ("clear\x1b[2Jscreen", "clear\\x1b[2Jscreen"),
    ("title\x1b]0;pwned\x07", "title\\x1b]0;pwned\\x07"),
    ("link\x1b]8;;http://x\x1b\\t", "link\\x1b]8;;http://x\\x1b\\x5ct"),  # OSC 8, ST
    ("rtl\u202eexe.txt", "rtl\\u202eexe.txt"),
    ("iso\u2066late\u2069", "iso\\u2066late\\u2069"),
    ("row\nforged", "row\\x0aforged"),
    ("bare\rcr", "bare\\x0dcr"),
    ("nul\x00", "nul\\x00"),
    ("del\x7f", "del\\x7f"),
    ("c1\x9bcsi", "c1\\x9bcsi"),  # the one-byte CSI of 8-bit terminals
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("line\u2028sep", "line\\u2028sep"),
    (os.fsdecode(b"bad\xff"), "bad\\udcff"),  # a surrogate kept by surrogateescape
    ("\U000e0041tag", "\\U000e0041tag"),  # a tag character: invisible
    ("héllo wörld ✓ 日本", "héllo wörld ✓ 日本"),  # printable text is untouched
])
def test_safe_escapes_control_bidi_and_invisible_characters(raw: str, shown: str) -> None:
    assert safe(raw) == shown
    assert safe(shown) == shown or "\\" in raw  # escaping is stable on clean output
    assert all(ch.isprintable() for ch in safe(raw))


def test_within_an_escaped_name_a_literal_backslash_cannot_pass_for_an_escape() -> None:
    # A name holding both a real ESC and the text "\x1b": the two stay distinguishable.
    assert safe("a\\x1b\x1b") == "a\\x5cx1b\\x1b"


def test_safe_takes_any_object() -> None:
    assert safe(42) == "42"
    assert safe(b"x") == "b'x'"


def test_clip_cuts_for_display_only() -> None:
    assert clip("short", 10) == "short"
    assert clip("W" * 10_000, 20) == "W" * 19 + "…"
    assert len(clip("W" * 10_000, 20)) == 20
    assert clip("anything", 0) == ""


@pytest.mark.parametrize(("raw", "cell"), [
    ('=cmd|"/c calc"!A1', '\'=cmd|"/c calc"!A1'),
    ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
    ("-2+3", "'-2+3"),
    ('@HYPERLINK("x")', '\'@HYPERLINK("x")'),
    ("\tTAB", "'\tTAB"),
    ("\rCR", "'\rCR"),
    ("CacheOwner", "CacheOwner"),
    (42, 42),
    (-3, -3),  # numbers stay numbers
    (1.5, 1.5),
])
def test_csv_cell_neutralises_formulas(raw: object, cell: object) -> None:
    assert csv_cell(raw) == cell


def test_csv_export_round_trips_through_csv_reader() -> None:
    ids = ['=cmd|"/c calc"!A1', "bare\rcr", "new\nline", 'quo"te', "-2+3"]
    snap = make_snapshot(components=[
        ComponentStats(id=i, type="t", live=1, bytes=1, alive=True) for i in ids])
    text = snapshot_to_csv(snap)
    rows = list(csv.reader(io.StringIO(text, newline="")))  # a bare CR used to break it
    read = [r[2] for r in rows if r[0] == "component_live"]
    assert read == ['\'=cmd|"/c calc"!A1', "bare\rcr", "new\nline", 'quo"te', "'-2+3"]


def test_encodable_keeps_text_and_escapes_only_what_utf8_cannot_carry() -> None:
    from inspector.metrics.text import encodable, encodable_tree

    assert encodable("héllo\x1b") == "héllo\x1b"  # JSON keeps names exact
    assert encodable(os.fsdecode(b"bad\xff\xfename")) == "bad\\xff\\xfename"
    assert encodable("lone\ud800") == "lone\\ud800"
    tree = encodable_tree({os.fsdecode(b"k\xff"): [os.fsdecode(b"v\xfe"), 1, None]})
    assert msgspec.json.decode(msgspec.json.encode(tree)) == {"k\\xff": ["v\\xfe", 1, None]}
