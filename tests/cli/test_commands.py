"""The commands through ``cli.main.main`` with the reader and discovery replaced by fakes."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from cli.main import resinspect
from inspector.errors import (
    AccessDenied,
    AmbiguousApplication,
    ConnectionFailed,
    ConnectionLost,
    NoApplication,
    ProtocolError,
    ResinspectError,
)
from inspector.metrics.snapshot import Snapshot
from tests.cli_helpers import CliSeams, Run, assert_one_line_error

from .conftest import FailingOpen, FakeApp, FakeApps, FakeReader, blocked_snapshot, make_snapshot

Install = Callable[..., FakeReader]


# -- snapshot ------------------------------------------------------------------------------


def test_snapshot_json_parses_back(run_cli: Run, fake_reader: Install) -> None:
    snap = make_snapshot()
    reader = fake_reader([snap])
    result = run_cli("snapshot")
    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert Snapshot.from_json(result.stdout) == snap
    assert result.stdout.endswith("\n")
    assert result.stdout.count("\n") == 1
    assert reader.targets == [(None, None)]
    assert reader.closed


def test_snapshot_passes_the_target(run_cli: Run, fake_reader: Install) -> None:
    reader = fake_reader()
    assert run_cli("snapshot", "--pid", "77").exit_code == 0
    assert run_cli("snapshot", "--socket", "/x/resinspect/77.sock").exit_code == 0
    assert reader.targets == [(77, None), (None, Path("/x/resinspect/77.sock"))]


def test_snapshot_csv_and_prometheus(run_cli: Run, fake_reader: Install) -> None:
    fake_reader()
    csv = run_cli("snapshot", "--format", "csv")
    assert csv.exit_code == 0, csv
    assert csv.stdout.splitlines()[0] == "metric,resource_type,component_id,value"
    assert "component_bytes,,CacheOwner,3000" in csv.stdout
    prom = run_cli("snapshot", "--format", "prom")
    assert prom.exit_code == 0, prom
    assert 'resinspect_cache_bytes{app="tracked-app",pid="4242"} 3000.0' in prom.stdout


def test_snapshot_to_a_file_is_replaced_whole(run_cli: Run, fake_reader: Install,
                                              tmp_path: Path) -> None:
    snap = make_snapshot()
    fake_reader([snap])
    target = tmp_path / "snap.json"
    target.write_text("old contents")
    result = run_cli("snapshot", "-o", str(target))
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert Snapshot.from_json(target.read_bytes()) == snap
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap.json"]  # no temporary left
    assert run_cli("snapshot", "-o", "-").stdout.startswith("{")


@pytest.mark.parametrize("where", ["missing-dir/snap.json", "a-directory"])
def test_snapshot_to_an_unwritable_path_is_one_line(run_cli: Run, fake_reader: Install,
                                                    tmp_path: Path, where: str) -> None:
    fake_reader()
    (tmp_path / "a-directory").mkdir()
    result = run_cli("snapshot", "-o", str(tmp_path / where))
    assert_one_line_error(result, contains="cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-directory"]
    assert list((tmp_path / "a-directory").iterdir()) == []


def test_pid_and_socket_together_is_a_usage_error(run_cli: Run, fake_reader: Install) -> None:
    reader = fake_reader()
    for command in ("snapshot", "top"):
        result = run_cli(command, "--pid", "1", "--socket", "/tmp/x.sock")
        assert_one_line_error(result, code=2, contains="--pid and --socket")
        result = run_cli(command, "--socket", "/tmp/x.sock", "--pid", "1")
        assert_one_line_error(result, code=2, contains="--pid and --socket")
    assert reader.targets == []


@pytest.mark.parametrize("error", [
    NoApplication("no resinspect application with pid 9 (none is running)"),
    AmbiguousApplication("2 applications are running, choose one with --pid:\n"
                         "  11 (viewer)\n  12 (editor)"),
    ConnectionFailed("cannot connect to /x.sock: nobody listens there"),
    AccessDenied("cannot connect to /x.sock: it belongs to uid 0, not 1000"),
    ProtocolError("/x.sock speaks protocol 7"),
    ConnectionLost("/x.sock closed the connection without a reply"),
])
@pytest.mark.parametrize("command", ["snapshot", "top"])
def test_errors_are_one_line_and_status_1(run_cli: Run, failing_open: FailingOpen,
                                          error: ResinspectError, command: str) -> None:
    failing_open(error)
    result = run_cli(command)
    first_line = str(error).splitlines()[0]
    assert_one_line_error(result, contains=first_line)
    if isinstance(error, AmbiguousApplication):  # candidates kept, on the same line
        assert "11 (viewer); 12 (editor)" in result.stderr


def test_unexpected_exception_is_one_line_unless_debugging(
        run_cli: Run, monkeypatch: pytest.MonkeyPatch, failing_open: FailingOpen) -> None:
    failing_open(RuntimeError("boom"))
    monkeypatch.delenv("RESINSPECT_DEBUG", raising=False)
    assert_one_line_error(run_cli("snapshot"), contains="RuntimeError: boom")
    debug = run_cli("snapshot", env={"RESINSPECT_DEBUG": "1"})
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr
    assert debug.stderr.splitlines()[-1].startswith("resinspect: unexpected error")


def test_interrupt_is_status_130_without_traceback(run_cli: Run,
                                                   failing_open: FailingOpen) -> None:
    failing_open(KeyboardInterrupt())
    result = run_cli("snapshot")
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == ""


def test_broken_pipe_is_quiet(run_cli: Run, failing_open: FailingOpen) -> None:
    failing_open(BrokenPipeError())
    result = run_cli("snapshot")
    assert result.exit_code == 141
    assert result.stderr == ""


# -- ls ------------------------------------------------------------------------------------


def test_ls_json(run_cli: Run, fake_apps: FakeApps) -> None:
    now = time.time()
    fake_apps([
        FakeApp(200, "editor", Path("/r/resinspect/200.sock"), started_at=now - 60,
                versions={"resinspect": "0.1.0"}),
        FakeApp(100, "viewer", Path("/r/resinspect/100.sock"), started_at=now - 5),
    ])
    result = run_cli("ls", "--json")
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    assert [d["pid"] for d in data] == [100, 200]
    assert data[1]["app"] == "editor"
    assert data[1]["socket"] == "/r/resinspect/200.sock"
    assert data[1]["versions"] == {"resinspect": "0.1.0"}
    assert data[1]["started_at"] == pytest.approx(now - 60)
    assert 59 <= data[1]["uptime_s"] <= 120
    assert {"pid", "app", "socket", "started_at", "uptime_s", "versions"} <= set(data[0])


def test_ls_table(run_cli: Run, fake_apps: FakeApps) -> None:
    sock = "/run/user/1000/a/much/longer/runtime/directory/than/usual/resinspect/31337.sock"
    fake_apps([FakeApp(31337, "viewer", Path(sock), started_at=time.time() - 185)])
    result = run_cli("ls")
    assert result.exit_code == 0, result
    (row,) = [line for line in result.stdout.splitlines() if "31337" in line]
    assert row.split() == ["31337", "viewer", "3m05s", sock]
    assert "\x1b[" not in result.stdout


def test_ls_empty(run_cli: Run, fake_apps: FakeApps) -> None:
    fake_apps([])
    result = run_cli("ls")
    assert result.exit_code == 0
    assert result.stdout.startswith("No live applications")
    assert json.loads(run_cli("ls", "--json").stdout) == []


# -- top -----------------------------------------------------------------------------------


def test_top_once_renders_one_frame(run_cli: Run, fake_reader: Install) -> None:
    reader = fake_reader([make_snapshot(), make_snapshot(app="second-frame")])
    result = run_cli("top", "--once")
    assert result.exit_code == 0, result
    assert result.stdout.count("tracked-app  pid 4242") == 1
    assert "second-frame" not in result.stdout
    assert "CacheOwner" in result.stdout
    assert "2.9 KiB in 3 entries" in result.stdout
    assert reader.streamed == 0
    assert reader.closed


def test_top_without_a_terminal_acts_like_once(run_cli: Run, fake_reader: Install) -> None:
    reader = fake_reader([make_snapshot(), make_snapshot(app="second-frame")])
    result = run_cli("top", "--interval", "0.2")
    assert result.exit_code == 0, result
    assert result.stdout.count("tracked-app  pid 4242") == 1
    assert reader.intervals == []
    assert reader.current_calls == 1
    assert "\x1b[" not in result.stdout


def test_top_pipe_output_keeps_long_ids_whole(run_cli: Run, fake_reader: Install) -> None:
    from inspector.metrics.snapshot import ComponentStats

    long_id = "Main." + ".".join(f"level{i}" for i in range(20))  # 144 characters
    fake_reader([make_snapshot(components=[
        ComponentStats(id=long_id, type="t", live=1, bytes=1, alive=True)])])
    result = run_cli("top")
    lines = result.stdout.splitlines()
    # Wider than the 100 columns a pipe gets: the id has a line of its own, whole, and its
    # fields follow on the next; no line is wider than the id.
    (at,) = [i for i, line in enumerate(lines) if long_id in line]
    assert lines[at].split() == [long_id]
    assert lines[at + 1].split() == ["type", "t", "live", "1", "bytes", "1", "B", "state",
                                     "alive"]
    assert max(len(line) for line in lines) <= len(long_id)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Make ``top`` believe stdout is a terminal; what it draws lands in the returned buffer.

    A capable one: with ``TERM=dumb`` (CI, a bare machine) rich draws no live frames at all.
    """
    monkeypatch.setenv("TERM", "xterm-256color")
    screen = io.StringIO()

    def make_console(file: object = None) -> Console:
        return Console(file=screen, force_terminal=True, width=100, height=60,
                       color_system="standard")

    monkeypatch.setattr("cli.console.make_console", make_console)
    return screen


def test_top_live_redraws_at_each_push(run_cli: Run, fake_reader: Install,
                                       terminal: io.StringIO) -> None:
    frames = [make_snapshot(app=f"frame-{i}") for i in range(3)]
    reader = fake_reader(frames)
    result = run_cli("top", "--interval", "0.5")
    assert result.exit_code == 0, result
    assert reader.intervals == [0.5]
    assert reader.streamed == 3
    screen = terminal.getvalue()
    assert all(f"frame-{i}" in screen for i in range(3))
    assert "\x1b[" in screen  # redrawn in place (cursor movement)


def test_top_ctrl_c_leaves_cleanly(run_cli: Run, fake_reader: Install,
                                   terminal: io.StringIO) -> None:
    fake_reader([make_snapshot()], fail=KeyboardInterrupt())
    result = run_cli("top")
    assert result.exit_code == 0
    assert "Traceback" not in result.stderr
    assert result.stderr == ""


def test_top_app_going_away_is_one_line(run_cli: Run, fake_reader: Install,
                                        terminal: io.StringIO) -> None:
    fake_reader([make_snapshot(), blocked_snapshot()],
                fail=ConnectionLost("/r/resinspect/4242.sock closed the connection"))
    result = run_cli("top")
    assert_one_line_error(result, contains="closed the connection")
    assert "EVENT LOOP BLOCKED" in terminal.getvalue()  # the last frame stays on screen


# -- the group -----------------------------------------------------------------------------


def test_version(run_cli: Run) -> None:
    from inspector import __version__

    for flag in ("--version", "-V"):
        result = run_cli(flag)
        assert result.exit_code == 0
        assert result.stdout == f"resinspect {__version__}\n"


def test_help_lists_every_registered_command(run_cli: Run) -> None:
    from cli.commands import COMMANDS

    result = run_cli("--help")
    assert result.exit_code == 0
    for name, entry in COMMANDS.items():
        assert f"{name}  " in result.stdout
        assert entry.short_help in result.stdout


def test_no_arguments_shows_help(run_cli: Run) -> None:
    result = run_cli()
    assert result.exit_code == 2
    assert "Commands:" in result.stderr


@pytest.mark.parametrize("args", [["nosuchcommand"], ["top", "--interval", "0"],
                                  ["snapshot", "--format", "xml"], ["snapshot", "--pid", "x"],
                                  ["ls", "--bogus"]])
def test_usage_errors_are_one_line_status_2(run_cli: Run, args: list[str]) -> None:
    assert_one_line_error(run_cli(*args), code=2)


def test_every_registered_command_loads_under_its_name() -> None:
    import click

    from cli.commands import COMMANDS

    ctx = click.Context(resinspect)
    for name in COMMANDS:
        command = resinspect.get_command(ctx, name)
        assert isinstance(command, click.Command)
        assert command.name == name


def test_group_works_under_plain_clirunner(fake_reader: Install, cli_seams: CliSeams) -> None:
    """The group itself is an ordinary click group (standalone mode included); the readers
    ride in click's own context object."""
    reader = fake_reader()
    result = CliRunner().invoke(resinspect, ["snapshot"], obj=cli_seams.readers)
    assert reader.targets == [(None, None)]
    assert result.exit_code == 0
    assert Snapshot.from_json(result.stdout).pid == 4242
