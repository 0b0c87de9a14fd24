"""Stack frames as text, and faulthandler's dumps read back."""

from __future__ import annotations

import faulthandler
import threading
from pathlib import Path

from inspector.metrics.hangs.frames import common_prefix, format_frame, parse_dump, parse_frame


def test_parse_frame_round_trips_and_keeps_odd_text() -> None:
    assert parse_frame("run (/a (b)/x.py:12)") == ("run", "/a (b)/x.py", 12)
    assert parse_frame("(native code)") == ("(native code)", "", 0)


def test_format_frame_is_what_parse_frame_reads() -> None:
    frame = ("rebuild_index", "/src/index.py", 88)
    assert format_frame(frame) == "rebuild_index (/src/index.py:88)"
    assert parse_frame(format_frame(frame)) == frame
    assert format_frame(("(native code)", "", 0)) == "(native code)"


def test_common_prefix_counts_the_shared_leading_frames() -> None:
    assert common_prefix([["a", "b", "c"], ["a", "b", "d"], ["a", "b"]]) == 2
    assert common_prefix([["a"], ["b"]]) == 0
    assert common_prefix([]) == 0


def test_parse_dump_reads_what_faulthandler_writes(tmp_path: Path) -> None:
    path = tmp_path / "dump"

    def inner_named_function() -> None:
        with open(path, "w") as f:
            faulthandler.dump_traceback(f, all_threads=True)

    inner_named_function()
    stacks = parse_dump(path.read_text())
    mine = stacks[threading.get_ident()]
    assert mine[-1].startswith("inner_named_function (")  # innermost last
    line = inner_named_function.__code__.co_firstlineno + 2
    assert mine[-1].endswith(f"{Path(__file__)}:{line})")
