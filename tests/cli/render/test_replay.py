"""A frame of ``top --replay`` (cli/render/replay.py): where in the recording, the frame,
and the markers, those new since the frame before marked."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from cli.render.replay import markers_table, replay_frame, replay_width
from inspector.metrics.snapshot import Marker, Snapshot
from tests.cli.conftest import lines_with, make_snapshot, text_of

PATH = Path("/recordings/a-rather-long-directory-name/run.ndjson")


def _frames() -> list[Snapshot]:
    first = make_snapshot(timestamp=1000.0, markers=[Marker(t=1.0, kind="registered",
                                                            component_id="Tab#1")])
    last = make_snapshot(timestamp=1042.0, markers=[
        *first.markers, Marker(t=40.0, kind="cleaned_up", component_id="Tab#1")])
    return [first, make_snapshot(timestamp=1010.0, markers=first.markers), last]


def test_a_frame_says_where_it_is_and_lists_the_markers() -> None:
    frames = _frames()
    out = text_of(replay_frame(PATH, frames, 2), width=160)
    assert f"replay {PATH}  frame 3/3  at +42s of 42s" in out
    assert "tracked-app  pid 4242" in out
    assert len(lines_with(out, "Tab#1")) == 2  # registered, then cleaned up


def test_streamed_ends_show_the_last_frame_of_count() -> None:
    first, _, last = _frames()
    out = text_of(replay_frame(PATH, [first, last], 39, count=40), width=160)
    assert "frame 40/40  at +42s of 42s" in out


def test_markers_new_since_the_frame_before_are_bold() -> None:
    _, middle, last = _frames()
    console = Console(width=100, force_terminal=True, color_system="standard")
    with console.capture() as cap:
        console.print(markers_table(last, middle, None))
    (new,) = [line for line in cap.get().splitlines() if "cleaned_up" in line]
    (old,) = [line for line in cap.get().splitlines() if "registered" in line]
    assert "\x1b[1m" in new
    assert "\x1b[1m" not in old


def test_the_width_of_a_pipe_keeps_the_path_whole() -> None:
    first, _, last = _frames()
    width = replay_width(PATH, first, last, 3)
    out = text_of(replay_frame(PATH, [first, last], 2, count=3), width=width)
    assert str(PATH) in out
