"""Recordings: written line by line, read back whatever the recorder went through, replayed."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cli.reader import Readers
from inspector.errors import BadInput, ConnectionLost
from inspector.fleet.recording import (
    MAX_GAP_FACTOR,
    Playback,
    RecordingWriter,
    load_recording,
    read_recording,
    record,
    replay_delays,
    replay_schedule,
)
from inspector.metrics.snapshot import Snapshot
from tests.cli.conftest import FakeReader
from tests.cli_helpers import CliSeams
from tests.fleet.conftest import (
    GROWING_APP,
    App,
    Run,
    assert_one_line_error,
    make_snapshot,
    markers,
    resinspect,
    spawn_resinspect,
    write_recording,
)


def frames(n: int, start: float = 1_700_000_000.0, step: float = 1.0) -> list[Snapshot]:
    """``n`` snapshots ``step`` seconds apart, ``seq`` 1..n, live resources 10, 11, ..."""
    return [make_snapshot(seq=i + 1, timestamp=start + i * step, uptime_s=10 + i * step,
                          live_resources=10 + i) for i in range(n)]


# -- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("fsync", [False, True])
def test_writer_and_reader_round_trip(tmp_path: Path, fsync: bool) -> None:
    path = tmp_path / "run.ndjson"
    snaps = frames(3)
    with RecordingWriter(path, fsync=fsync) as writer:
        for snap in snaps:
            writer.write(snap)
        assert writer.count == 3
        assert writer.bytes == path.stat().st_size  # nothing waits in a buffer
    assert read_recording(path) == snaps
    assert path.read_bytes().count(b"\n") == 3
    path.write_bytes(path.read_bytes() + b"\n  \n")  # blank lines are no snapshots
    assert read_recording(path) == snaps


def test_a_cut_short_last_line_is_dropped(tmp_path: Path) -> None:
    snaps = frames(3)
    whole = b"".join(s.to_json() + b"\n" for s in snaps)
    path = tmp_path / "killed.ndjson"
    for cut in (1, 40, len(snaps[2].to_json()) - 1):  # anywhere in the last line
        path.write_bytes(whole[:len(whole) - len(snaps[2].to_json()) - 1 + cut])
        recording = load_recording(path)
        assert recording.snapshots == snaps[:2]
        assert recording.truncated
    # Cut just before its newline: the line is whole, nothing is lost.
    path.write_bytes(whole[:-1])
    assert load_recording(path) == load_recording(path)
    assert read_recording(path) == snaps
    assert not load_recording(path).truncated


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty file, no snapshot in it"),
    (b"  \n\n", "empty file, no snapshot in it"),
    (b"not json at all\n", ":1: not a resinspect snapshot"),
    (b'{"pid": 1, "app": "x", "times', "no complete snapshot in it"),
    (b"@@@\n", ":1: not a resinspect snapshot"),
    (b"{good}\n{oops\n{good}\n", ":2: not a resinspect snapshot"),
    (b"{good}\n{oops\n", ":2: not a resinspect snapshot"),  # newline: it was finished
    (b'{good}\n{"pid": 3}', ':2: not a resinspect snapshot: Object missing required field'),
    (b'{"not": "a snapshot"}', "not a resinspect snapshot: Object missing required field"),
    (b"{good}\n{schema2}\n", ":2: schema 'resinspect.snapshot/2' is not 'resinspect.snapshot/1'"),
])
def test_malformed_recordings_name_file_and_line(tmp_path: Path, content: bytes,
                                                 message: str) -> None:
    good = make_snapshot().to_json()
    other = make_snapshot(schema="resinspect.snapshot/2").to_json()
    path = tmp_path / "bad.ndjson"
    path.write_bytes(content.replace(b"{good}", good).replace(b"{schema2}", other))
    with pytest.raises(BadInput) as info:
        read_recording(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_snapshot_file_is_a_recording_of_one(tmp_path: Path) -> None:
    import msgspec

    snap = make_snapshot()
    path = tmp_path / "snap.json"
    path.write_bytes(msgspec.json.format(snap.to_json(), indent=2))
    assert read_recording(path) == [snap]
    path.write_bytes(snap.to_json())  # compact, without a newline: whole all the same
    assert read_recording(path) == [snap]
    with pytest.raises(BadInput, match="cannot read"):
        read_recording(tmp_path / "missing.ndjson")


def test_writer_errors_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=f"cannot write {tmp_path / 'no' / 'such.ndjson'}"):
        RecordingWriter(tmp_path / "no" / "such.ndjson")
    out = io.BytesIO()
    writer = RecordingWriter("-", stdout=out)
    writer.write(make_snapshot())
    assert Snapshot.from_json(out.getvalue()) == make_snapshot()


# -- recording and pacing --------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_duration_keeps_every_snapshot_due_within_it(tmp_path: Path) -> None:
    clock = FakeClock()

    def pushes() -> Iterator[Snapshot]:
        for snap in frames(100):
            yield snap
            clock.now += 1.02  # pushes a little late, as real ones are

    with RecordingWriter(tmp_path / "r.ndjson") as writer:
        progress = record(pushes(), writer, interval=1.0, duration=3.0, clock=clock)
    assert progress is not None
    assert progress.snapshots == 4  # at 0, 1, 2 and 3 s
    assert len(read_recording(tmp_path / "r.ndjson")) == 4


def test_replay_keeps_the_recorded_pace_or_rescales_it() -> None:
    snaps = [make_snapshot(timestamp=t) for t in (100.0, 101.0, 103.0, 102.5, 104.0, 900.0)]
    paced = replay_delays(snaps)
    assert paced[:5] == [0.0, 1.0, 2.0, 0.0, 1.5]  # a clock stepped back waits 0
    typical = 1.75  # the median of the gaps 1, 2, 1.5 and 796 s
    assert paced[5] == pytest.approx(typical * MAX_GAP_FACTOR)  # a long pause is capped
    faster = replay_delays(snaps, interval=0.1)  # the typical gap lasts 0.1 s
    assert faster[:5] == pytest.approx([0.0, 0.1 / typical, 0.2 / typical, 0.0,
                                        0.15 / typical])
    assert faster[5] == pytest.approx(0.1 * MAX_GAP_FACTOR)
    same_instant = [make_snapshot(timestamp=5.0)] * 3
    assert replay_delays(same_instant, interval=0.5) == [0.0, 0.5, 0.5]
    assert replay_delays(same_instant) == [0.0, 0.0, 0.0]
    assert replay_delays([]) == []


def test_one_pacing_rule_for_every_replay() -> None:
    snaps = [make_snapshot(timestamp=t) for t in (100.0, 101.0, 103.0, 3700.0)]
    due = replay_schedule(snaps)
    assert due == [0.0, 1.0, 3.0, 3.0 + 2.0 * MAX_GAP_FACTOR]  # the hour-long pause: capped
    assert replay_schedule(snaps, speed=2.0) == [d / 2 for d in due]
    assert replay_delays(snaps) == [0.0, 1.0, 2.0, 2.0 * MAX_GAP_FACTOR]
    playback = Playback(snaps, speed=2.0)
    assert playback.due_at == tuple(d / 2 for d in due)
    assert [playback.frames_due(t) for t in (0.0, 0.49, 0.5, 1.5, 11.4, 11.5, 1e9)] == [
        1, 1, 2, 3, 3, 4, 4]
    assert Playback([]).frames_due(5.0) == 0


# -- the record command, in-process ----------------------------------------------------------


@pytest.fixture
def stream(cli_seams: CliSeams) -> Callable[..., FakeReader]:
    def install(snapshots: list[Snapshot], end: BaseException | None = None
                ) -> FakeReader:
        reader = FakeReader(snapshots, fail=end)
        cli_seams.readers = Readers(open=lambda pid, socket: reader)
        return reader

    return install


def test_record_app_gone_keeps_what_was_written(run_cli: Run, tmp_path: Path,
                                                stream: Callable[..., FakeReader]) -> None:
    reader = stream(frames(3), ConnectionLost("app.sock closed the connection without a reply"))
    out = tmp_path / "run.ndjson"
    result = run_cli("record", "-o", str(out), "--interval", "0.1")
    assert_one_line_error(result, contains="app.sock closed the connection without a reply; "
                                           f"recording stopped after 3 snapshots, kept in {out}")
    assert result.stdout == ""
    assert read_recording(out) == frames(3)
    assert reader.closed


def test_record_ctrl_c_is_a_clean_stop(run_cli: Run, tmp_path: Path,
                                       stream: Callable[..., FakeReader]) -> None:
    stream(frames(2), KeyboardInterrupt())
    out = tmp_path / "run.ndjson"
    result = run_cli("record", "-o", str(out))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")  # no terminal
    assert len(read_recording(out)) == 2


def test_record_without_an_app_leaves_no_file(run_cli: Run, runtime_dir: Path,
                                              tmp_path: Path) -> None:
    out = tmp_path / "run.ndjson"
    assert_one_line_error(run_cli("record", "-o", str(out)),
                          contains="no resinspect application is running")
    assert not out.exists()


# -- against a real application --------------------------------------------------------------


def _wait_for_lines(path: Path, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        if proc.poll() is not None:
            pytest.fail(f"the recorder ended first: {proc.communicate()}")
        time.sleep(0.02)
    pytest.fail(f"fewer than {count} lines in {path} within 20 s")


def test_a_killed_recorder_leaves_whole_lines(start_app: Callable[..., App],
                                             runtime_dir: Path, tmp_path: Path) -> None:
    start_app()
    out = tmp_path / "run.ndjson"
    recorder = spawn_resinspect(runtime_dir, "record", "-o", str(out), "--interval", "0.05")
    try:
        _wait_for_lines(out, 5, recorder)  # written as they come, not at the end
    finally:
        os.kill(recorder.pid, signal.SIGKILL)  # no chance to tidy up
        recorder.communicate(timeout=10)
    *complete, tail = out.read_bytes().split(b"\n")
    assert len(complete) >= 5
    for line in complete:  # every complete line is a whole snapshot
        assert Snapshot.from_json(line).app == "tracked-app"
    recording = load_recording(out)  # at most the last line is partial, and it is dropped
    if tail:
        assert len(recording.snapshots) == len(complete) + (0 if recording.truncated else 1)
    else:
        assert (len(recording.snapshots), recording.truncated) == (len(complete), False)
    seqs = [s.seq for s in recording.snapshots]
    assert seqs == sorted(seqs)
    assert all(s.live_resources == 5 for s in recording.snapshots)


def test_app_gone_mid_recording_keeps_the_file(start_app: Callable[..., App],
                                               runtime_dir: Path, tmp_path: Path) -> None:
    app = start_app()
    out = tmp_path / "run.ndjson"
    recorder = spawn_resinspect(runtime_dir, "record", "--pid", str(app.pid), "-o", str(out),
                                "--interval", "0.05")
    try:
        _wait_for_lines(out, 3, recorder)
        app.proc.kill()  # a crash: no goodbye on the socket
        stdout, stderr = recorder.communicate(timeout=20)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.communicate(timeout=10)
    kept = read_recording(out)
    assert recorder.returncode == 1, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("resinspect: ")
    assert f"recording stopped after {len(kept)} snapshots, kept in {out}" in lines[0]
    assert len(kept) >= 3
    assert all(s.pid == app.pid for s in kept)


def test_record_for_a_duration_then_replay_the_last_frame(
        start_app: Callable[..., App], runtime_dir: Path, tmp_path: Path) -> None:
    app = start_app(script=GROWING_APP)
    app.command("open 2")
    app.command("close")
    app.command("open 1")
    out = tmp_path / "run.ndjson"
    started = time.monotonic()
    result = resinspect(runtime_dir, "record", "-o", str(out), "--interval", "0.1",
                        "--duration", "0.5")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert time.monotonic() - started < 10
    snaps = read_recording(out)
    assert 4 <= len(snaps) <= 7  # 0, 0.1 ... 0.5 s, give or take a push
    last = snaps[-1]
    assert (last.live_resources, last.active_workers) == (2, 1)

    shown = resinspect(runtime_dir, "top", "--replay", str(out), "--once")
    assert (shown.returncode, shown.stderr) == (0, ""), shown
    text = shown.stdout
    assert f"replay {out}  frame {len(snaps)}/{len(snaps)}" in text
    assert f"{last.app}  pid {last.pid}" in text
    assert f"{last.live_resources} live / {last.created_total} created / " \
           f"{last.destroyed_total} destroyed" in text
    assert "1 active" in text
    rows = [line.split() for line in text.splitlines() if line.strip()]
    assert ["MediaAnalysisController#3", "controller", "2", "4.0", "MiB", "alive"] in rows
    # The lifecycle markers: two tabs opened and closed, a third opened.
    kinds = [(r[0], r[1]) for r in rows if r[0].startswith("MediaAnalysisController#")
             and r[1] in ("registered", "cleaned_up", "destroyed")]
    assert ("MediaAnalysisController#1", "registered") in kinds
    assert ("MediaAnalysisController#2", "cleaned_up") in kinds
    assert ("MediaAnalysisController#3", "registered") in kinds


# -- replay in a terminal, in-process ---------------------------------------------------------


def test_live_replay_shows_every_frame_at_its_pace(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from cli.commands import top

    snaps = frames(3, step=2.0)
    snaps[2] = make_snapshot(seq=3, timestamp=snaps[2].timestamp, uptime_s=14.0,
                             live_resources=12,
                             markers=markers((13.5, "registered", "Tab#7")))
    path = write_recording(tmp_path / "run.ndjson", snaps)
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    monkeypatch.setenv("TERM", "xterm-256color")  # with TERM=dumb rich draws no live frames
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, height=60, color_system=None)
    top._replay(console, path, None, once=False)
    screen = out.getvalue()
    assert slept == [2.0, 2.0]
    for index, live in ((1, 10), (2, 11), (3, 12)):
        assert f"frame {index}/3" in screen
        assert f"{live} live / " in screen
    assert "Tab#7" in screen

    slept.clear()
    top._replay(Console(file=io.StringIO(), force_terminal=True), path, 0.5, once=False)
    assert slept == [0.5, 0.5]  # --interval: one recorded interval lasts 0.5 s


def test_replay_errors(run_cli: Run, tmp_path: Path) -> None:
    path = write_recording(tmp_path / "run.ndjson", frames(2))
    assert_one_line_error(run_cli("top", "--replay", str(path), "--pid", "12"),
                          contains="--replay shows a file", code=2)
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(b"nonsense\n")
    assert_one_line_error(run_cli("top", "--replay", str(bad)), contains=f"{bad}:1:")
    once = run_cli("top", "--replay", str(path))  # no terminal: the last frame
    assert once.exit_code == 0
    assert "frame 2/2" in once.stdout
    assert "11 live / " in once.stdout
