"""The freeze renderers: ``hangs``, ``dump``, the Freezes lines of ``top``; untrusted names
shown escaped."""

from __future__ import annotations

from typing import Any

from cli.render.freezes import freezes_section, render_dump, render_hangs
from cli.render.top import render_top
from inspector.metrics.snapshot import Hang, HangFrame
from tests.cli.conftest import make_snapshot, text_of

EVIL = "evil\x1b]0;owned\x07\u202e"


def hang_dict(**overrides: Any) -> dict[str, Any]:
    hang = {"started": 1_700_000_000.0, "duration_ms": 3000.0, "samples": 250,
            "native": False,
            "stack": ["main (app.py:9)", "on_import (app.py:40)", "rebuild_index (index.py:88)"],
            "where": [{"frame": "on_import (app.py:40)", "ms": 3000.0, "depth": 0},
                      {"frame": "rebuild_index (index.py:88)", "ms": 2400.0, "depth": 1},
                      {"frame": "parse (parse.py:12)", "ms": 600.0, "depth": 1}]}
    hang.update(overrides)
    return hang


def test_hangs_shows_totals_the_table_and_where_the_time_went() -> None:
    reply = {"hangs": [hang_dict()], "count": 7, "total_ms": 5200.0, "max_ms": 3000.0,
             "threshold_ms": 200.0, "stalled_ms": 0.0,
             "by_function": [{"frame": "rebuild_index (index.py)", "count": 5, "ms": 4000.0}]}
    text = text_of(render_hangs(reply, "media-app", 42), width=120)
    assert "media-app  pid 42  7 stalls over 200 ms since start, 5.2 s in all, longest 3.0 s" \
        in text
    assert "6 earlier stalls are counted but no longer kept" in text
    lines = text.splitlines()
    caller = next(i for i, line in enumerate(lines) if "100%  on_import (app.py:40)" in line)
    assert "80%    rebuild_index (index.py:88)" in lines[caller + 1]  # callee under caller
    assert "20%    parse (parse.py:12)" in lines[caller + 2]
    assert "rebuild_index (index.py)" in text  # whole run, by function


def test_hangs_escapes_frames_from_the_application() -> None:
    reply = {"hangs": [hang_dict(stack=[f"{EVIL} (x.py:1)"],
                                 where=[{"frame": f"{EVIL} (x.py:1)", "ms": 3000.0}])],
             "count": 1, "total_ms": 3000.0, "max_ms": 3000.0, "threshold_ms": 200.0}
    text = text_of(render_hangs(reply, EVIL), width=120)
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "evil\\x1b]0;owned\\x07\\u202e" in text


def test_dump_puts_each_thread_under_its_name_escaped() -> None:
    reply = {"threads": [
        {"name": "MainThread", "kind": "gui", "gui": True, "stack": ["main (app.py:9)"]},
        {"name": EVIL, "kind": "qthread", "qthread": "Indexer", "component": "Library",
         "stack": []}]}
    text = text_of(render_dump(reply), width=120)
    assert text.splitlines()[0] == "Thread MainThread  (GUI thread)"
    assert "Thread evil\\x1b]0;owned\\x07\\u202e  (QThread Indexer, worker of Library)" in text
    assert "(no Python frame)" in text
    assert "\x1b" not in text


def test_top_has_a_freezes_section() -> None:
    quiet = text_of(render_top(make_snapshot()))
    assert "Freezes  none over 200 ms since start" in quiet
    hang = Hang(started=1_700_000_000.0, duration_ms=1500.0, native=True,
                stack=["main (app.py:9)", "match_natively (app.py:94)"],
                where=[HangFrame(frame="match_natively (app.py:94)", ms=1500.0)])
    snap = make_snapshot(hangs=[hang], hang_count=4, hang_total_ms=2600.0, hang_max_ms=1500.0,
                         timestamp=1_700_000_030.0)
    text = text_of(freezes_section(snap))
    assert "Freezes  4 over 200 ms, 2.6 s in all, longest 1.5 s" in text
    assert "1.5 s  30s ago  match_natively (app.py:94)" in text
