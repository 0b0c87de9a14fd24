"""A frame of ``top`` (cli/render/top.py): every headline number, tables whose ids are never
cut, the blocked banner, suspects; and the units it shows them in."""

from __future__ import annotations

import pytest

from cli.render.top import plain_width, render_top
from inspector.metrics.snapshot import ComponentStats, TypeStats
from inspector.metrics.units import format_bytes, format_duration, format_ms
from tests.cli.conftest import (
    ANSI,
    LONG_ID,
    blocked_snapshot,
    lines_with,
    make_snapshot,
    suspect,
    text_of,
)

# -- formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "expected"), [
    (0, "0 B"), (1000, "1000 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (3000, "2.9 KiB"),
    (1536 * 1024, "1.5 MiB"), (1024**2 - 1, "1.0 MiB"), (5 * 1024**3, "5.0 GiB"),
    (3 * 1024**5, "3.0 PiB"), (2048 * 1024**5, "2048.0 PiB"),
])
def test_format_bytes_uses_binary_units(n: int, expected: str) -> None:
    assert format_bytes(n) == expected


@pytest.mark.parametrize(("seconds", "expected"), [
    (0, "0s"), (42.9, "42s"), (185, "3m05s"), (7380, "2h03m"), (4 * 86400 + 5 * 3600, "4d05h"),
    (-3, "0s"),
])
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


def test_format_ms() -> None:
    assert [format_ms(0), format_ms(120.4), format_ms(3200)] == ["0 ms", "120 ms", "3.2 s"]


# -- top -----------------------------------------------------------------------------------


def test_header_shows_every_headline_number() -> None:
    out = text_of(render_top(make_snapshot()))
    first = out.splitlines()[0]
    assert "tracked-app" in first
    assert "pid 4242" in first
    assert "up 3m05s" in first
    assert "48.0 MiB (peak 52.0 MiB)" in out  # RSS and peak
    assert "2.9 KiB (peak 4.9 KiB)" in out  # tracked bytes and peak
    assert "5 live / 7 created / 2 destroyed" in out
    assert "2 active" in out
    assert "2.9 KiB in 3 entries" in out
    assert "lag 0 ms" in out
    assert not ANSI.search(out)


def test_resources_by_type_table() -> None:
    out = text_of(render_top(make_snapshot()))
    (cache,) = lines_with(out, "cache ")
    assert cache.split() == ["cache", "3", "5", "2", "2.9", "KiB"]
    (worker,) = [line for line in lines_with(out, "worker") if line.startswith("worker")]
    assert worker.split() == ["worker", "2", "2", "0", "0", "B"]
    # Types never used are left out.
    snap = make_snapshot(by_type={**make_snapshot().by_type,
                                  "timer": TypeStats(live=0, created=0, destroyed=0, bytes=0)})
    assert "timer" not in text_of(render_top(snap))


def test_components_sorted_by_live_bytes_with_their_numbers() -> None:
    comps = [
        ComponentStats(id="Small", type="t", live=1, bytes=10, alive=True),
        ComponentStats(id="Big", type="t", live=2, bytes=10_000_000, alive=True),
        ComponentStats(id="Gone", type="t", live=1, bytes=500, alive=False),
    ]
    out = text_of(render_top(make_snapshot(components=comps)))
    order = [line.split()[0] for line in out.splitlines()
             if line.split() and line.split()[0] in ("Small", "Big", "Gone")]
    assert order == ["Big", "Gone", "Small"]
    (big,) = lines_with(out, "Big ")
    assert "9.5 MiB" in big
    assert "alive" in big
    (gone,) = lines_with(out, "Gone ")
    assert "gone" in gone
    assert "500 B" in gone


@pytest.mark.parametrize("width", [100, 120])
def test_long_component_id_is_never_broken(width: int) -> None:
    comps = [ComponentStats(id=LONG_ID, type="loader", live=3, bytes=123456, alive=True),
             *make_snapshot().components]
    out = text_of(render_top(make_snapshot(components=comps)), width=width)
    (line,) = lines_with(out, LONG_ID)
    assert line.strip().startswith(LONG_ID)
    # Its numbers still follow it (on its own row or on the next line).
    after = out[out.index(LONG_ID):]
    assert "120.6 KiB" in after.split("CacheOwner")[0]
    assert "…" not in out


def test_short_ids_keep_the_table_layout() -> None:
    out = text_of(render_top(make_snapshot()), width=80)
    (header,) = [line for line in out.splitlines() if line.startswith("Component ")]
    assert header.split() == ["Component", "Type", "Live", "Bytes", "State"]
    (row,) = lines_with(out, "CacheOwner")
    assert row.split() == ["CacheOwner", "cache_owner", "3", "2.9", "KiB", "alive"]


def test_id_wider_than_the_console_is_folded_never_cut() -> None:
    huge = "X" * 150 + ".end"
    comps = [ComponentStats(id=huge, type="t", live=1, bytes=1, alive=True)]
    out = text_of(render_top(make_snapshot(components=comps)), width=80)
    assert huge in out.replace("\n", "")
    assert all(len(line) <= 80 for line in out.splitlines())


def test_max_rows_limits_components_and_says_how_many_are_hidden() -> None:
    comps = [ComponentStats(id=f"C{i:02d}", type="t", live=1, bytes=100 - i, alive=True)
             for i in range(30)]
    out = text_of(render_top(make_snapshot(components=comps), max_rows=10))
    assert "C09" in out
    assert "C10" not in out
    assert "... and 20 more components" in out
    assert "C29" in text_of(render_top(make_snapshot(components=comps)))


def test_no_banner_while_the_event_loop_turns() -> None:
    out = text_of(render_top(make_snapshot(event_loop_lag_ms=120.0,
                                           gui_stack=["should_not_show (x.py:1)"])))
    assert "BLOCKED" not in out
    assert "should_not_show" not in out
    assert "lag 120 ms" in out


def test_blocked_banner_shows_the_gui_stack_innermost_last() -> None:
    snap = blocked_snapshot()
    assert snap.blocked
    out = text_of(render_top(snap))
    assert "EVENT LOOP BLOCKED" in out
    assert "3.2 s" in out
    assert "innermost last" in out
    positions = [out.index(frame) for frame in snap.gui_stack]
    assert positions == sorted(positions)  # outermost first, innermost last
    # The banner comes before the numbers: it is the first thing one must see.
    assert out.index("EVENT LOOP BLOCKED") < out.index("RSS")


def test_lag_over_threshold_counts_as_blocked_even_without_the_flag() -> None:
    snap = make_snapshot(event_loop_lag_ms=900.0, lag_threshold_ms=500.0,
                         gui_stack=["busy_loop (app.py:3)"])
    assert "busy_loop (app.py:3)" in text_of(render_top(snap))


def test_blocked_without_a_stack_says_so() -> None:
    out = text_of(render_top(blocked_snapshot(gui_stack=[])))
    assert "EVENT LOOP BLOCKED" in out
    assert "no stack captured" in out


def test_leak_suspects_are_listed_with_reason_and_age() -> None:
    snap = make_snapshot(leak_suspects=[
        suspect("CacheOwner", "retained_after_cleanup", resource_id="c17", age_s=42),
        suspect("WorkerOwner", "orphan_worker", resource_type="worker", resource_id="w3",
                age_s=125),
    ])
    out = text_of(render_top(snap))
    assert "Leak suspects (2 in 2 groups)" in out
    (orphan,) = lines_with(out, "orphan_worker")
    assert orphan.split() == ["WorkerOwner", "worker", "orphan_worker", "1", "2m05s", "w3"]
    (retained,) = lines_with(out, "retained_after_cleanup")
    assert retained.split() == ["CacheOwner", "cache", "retained_after_cleanup", "1", "42s",
                                "c17"]
    assert out.index("orphan_worker") < out.index("retained_after_cleanup")  # oldest first


def test_suspect_details_and_type_wide_growth() -> None:
    snap = make_snapshot(leak_suspects=[
        suspect("*", "growth", resource_type="thumbnail", resource_id="",
                detail="live count rose in 5 windows"),
    ])
    out = text_of(render_top(snap))
    (row,) = lines_with(out, "growth")
    assert row.split()[:6] == ["*", "thumbnail", "growth", "1", "42s", "*"]
    assert "live count rose in 5 windows" in row  # on the row's one line


def test_empty_snapshot_renders() -> None:
    snap = make_snapshot(by_type={}, components=[], live_resources=0)
    out = text_of(render_top(snap))
    assert "nothing tracked yet" in out
    assert "no components registered" in out
    assert "no leak suspects" in out


def test_plain_width_fits_every_table_on_one_line_per_row() -> None:
    snap = make_snapshot(leak_suspects=[suspect(LONG_ID)])
    width = plain_width(snap)
    assert width > len(LONG_ID)
    out = text_of(render_top(snap), width=width)
    (row,) = lines_with(out, LONG_ID)
    assert row.split() == [LONG_ID, "cache", "retained_after_cleanup", "1", "42s", "c17"]
    assert plain_width(make_snapshot(components=[], leak_suspects=[])) < 80


