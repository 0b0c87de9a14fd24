"""``resinspect diff``: the pure diff, the command, and budgets on a real running app."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from inspector.fleet.diff import Change, diff_snapshots, new_suspects
from inspector.metrics.snapshot import TypeStats, group_of
from tests.fleet.conftest import (
    GROWING_APP,
    App,
    Run,
    assert_one_line_error,
    comp,
    make_snapshot,
    resinspect,
    suspect,
    worker,
    write_recording,
)

LONG_ID = "MainWindow.tabs.ThumbnailBrowserTab#3.ThumbnailLoaderController.decoder_pool_worker"


def section(out: str, title: str) -> dict[str, list[str]]:
    """The rows of the report's table titled ``title...``, by their first word."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        if not line.startswith("─"):
            rows[line.split()[0]] = line.split()
    return rows


@pytest.mark.parametrize(("cid", "group"), [
    ("MediaAnalysisController#1", "MediaAnalysisController"),
    ("MediaAnalysisController#12", "MediaAnalysisController"),
    ("CacheOwner", "CacheOwner"),
    ("Tab#3.Loader#1.pool", "Tab.Loader.pool"),
    ("Weird#name", "Weird#name"),  # only "#<number>" is an instance number
])
def test_group_drops_instance_numbers(cid: str, group: str) -> None:
    assert group_of(cid) == group


def test_diff_totals_types_components_groups_and_workers() -> None:
    a = make_snapshot(
        live_resources=3, tracked_bytes=1000, active_workers=1, cache_bytes=1000,
        cache_entries=1,
        by_type={"thumbnail": TypeStats(live=1, created=1, destroyed=0, bytes=1000),
                 "worker": TypeStats(live=2, created=2, destroyed=0, bytes=0)},
        components=[comp("MediaAnalysisController#1", 2, 1000), comp("Shell", 1)],
        workers=[worker("MediaAnalysisController#1", "w1")],
    )
    b = make_snapshot(
        timestamp=a.timestamp + 30, uptime_s=a.uptime_s + 30,
        live_resources=7, tracked_bytes=9000, active_workers=3, cache_bytes=9000,
        cache_entries=3,
        by_type={"thumbnail": TypeStats(live=3, created=4, destroyed=1, bytes=9000),
                 "worker": TypeStats(live=4, created=5, destroyed=1, bytes=0)},
        components=[comp("MediaAnalysisController#2", 3, 4000),
                    comp("MediaAnalysisController#3", 3, 5000, alive=False), comp("Shell", 1)],
        workers=[worker("MediaAnalysisController#2", "w7"),
                 worker("MediaAnalysisController#3", "w8"),
                 worker("MediaAnalysisController#3", "w9")],
    )
    d = diff_snapshots(a, b, before_source="a.json", after_source="b.json")
    assert d.schema == "resinspect.diff/1"
    assert (d.before.source, d.after.source, d.elapsed_s, d.same_process) == (
        "a.json", "b.json", 30.0, True)
    assert d.totals["live_resources"] == Change(3, 7, 4)
    assert d.totals["tracked_bytes"] == Change(1000, 9000, 8000)
    assert d.totals["active_workers"] == Change(1, 3, 2)
    assert d.totals["cache_bytes"] == Change(1000, 9000, 8000)
    assert d.totals["leak_suspects"] == Change(0, 0, 0)
    assert [(t.type, t.live.delta, t.bytes.delta) for t in d.by_type] == [
        ("thumbnail", 2, 8000), ("worker", 2, 0)]
    comps = {c.id: c for c in d.components}
    assert comps["MediaAnalysisController#1"].live == Change(2, 0, -2)
    assert comps["MediaAnalysisController#1"].alive_after is None
    assert comps["MediaAnalysisController#3"].alive_after is False
    assert comps["Shell"].live.delta == 0
    assert d.components[0].id == "MediaAnalysisController#3"  # most bytes grown first
    groups = {g.group: g for g in d.groups}
    media = groups["MediaAnalysisController"]
    assert (media.components, media.live, media.bytes) == (
        Change(1, 2, 1), Change(2, 6, 4), Change(1000, 9000, 8000))
    assert media.ids_after == ["MediaAnalysisController#2", "MediaAnalysisController#3"]
    running = {w.component_id: w.running for w in d.workers_by_component}
    assert running["MediaAnalysisController#3"] == Change(0, 2, 2)
    assert running["MediaAnalysisController#1"] == Change(1, 0, -1)


def test_diff_never_keys_by_resource_id_and_is_pure() -> None:
    a = make_snapshot(leak_suspects=[suspect("Tab#1", "r17")])
    # Another run: the same leak has another resource id; one more is new.
    b = make_snapshot(pid=5151, timestamp=a.timestamp + 3600,
                      leak_suspects=[suspect("Tab#1", "r4", age_s=50),
                                     suspect("Tab#1", "r5", age_s=2),
                                     suspect("Tab#1", "t1", reason="retained_after_cleanup",
                                             resource_type="thumbnail")])
    d = diff_snapshots(a, b)
    assert not d.same_process
    assert [(s.resource_id, s.reason) for s in d.new_suspects] == [
        ("t1", "retained_after_cleanup"), ("r5", "orphan_worker")]  # the youngest is new
    assert diff_snapshots(a, b) == d
    assert new_suspects(b.leak_suspects, a.leak_suspects) == []
    encoded = json.loads(msgspec.json.encode(d))
    assert "r17" not in json.dumps(encoded["components"])


# -- the command, in-process -----------------------------------------------------------------


def _files(tmp_path: Path) -> tuple[Path, Path]:
    a = make_snapshot(components=[comp("CacheOwner", 3, 3000), comp(LONG_ID, 1, 10)])
    b = make_snapshot(
        timestamp=a.timestamp + 5, uptime_s=15.0, live_resources=9, cache_bytes=12_000_000,
        active_workers=3,
        components=[comp("CacheOwner", 3, 3000), comp(LONG_ID, 4, 4_000_000),
                    comp("MediaAnalysisController#2", 2, 8_000_000)],
        leak_suspects=[suspect("MediaAnalysisController#2")],
    )
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_bytes(a.to_json())
    after.write_bytes(msgspec.json.format(b.to_json(), indent=2))  # indented: also read
    return before, after


def test_diff_report_as_plain_text(run_cli: Run, tmp_path: Path) -> None:
    before, after = _files(tmp_path)
    result = run_cli("diff", str(before), str(after))
    assert (result.exit_code, result.stderr) == (0, "")
    out = result.stdout
    assert "\x1b[" not in out
    rows = section(out, "Components")
    assert rows[LONG_ID] == [LONG_ID, "controller", "1", "4", "+3", "10", "B", "3.8", "MiB",
                             "+3.8", "MiB", "alive"]  # the long id whole, on its row
    assert rows["MediaAnalysisController#2"][2:5] == ["0", "2", "+2"]
    assert "CacheOwner" not in rows  # unchanged
    assert "1 unchanged components not shown" in out
    assert "New leak suspects in B (1)" in out
    assert section(out, "Totals")["Active"] == ["Active", "workers", "2", "3", "+1"]


def test_diff_json_and_budgets(run_cli: Run, tmp_path: Path) -> None:
    before, after = _files(tmp_path)
    ok = run_cli("diff", str(before), str(after), "--json", "--fail-on", "suspects>1",
                 "--fail-on", "live:ThumbnailBrowserTab>0")
    assert (ok.exit_code, ok.stderr) == (0, "")
    data = json.loads(ok.stdout)
    assert data["schema"] == "resinspect.diff/1"
    assert data["totals"]["live_resources"] == {"before": 5, "after": 9, "delta": 4}
    assert [b["broken"] for b in data["budgets"]] == [False, False]
    assert data["budgets"][1]["matched"] == "nothing"

    broken = run_cli("diff", str(before), str(after), "--json",
                     "--fail-on", "live:MediaAnalysisController>0", "--fail-on", "workers>0",
                     "--fail-on", "cache_bytes>+10MB", "--fail-on", "suspects>0",
                     "--fail-on", "live>+100")
    line = assert_one_line_error(broken, contains="4 budgets exceeded", report_on_stdout=True)
    for rule in ("live:MediaAnalysisController>0 (is 2)", "workers>0 (is 3)",
                 "cache_bytes>+10MB (+11.4 MiB from A to B)", "suspects>0 (is 1)"):
        assert rule in line
    assert "live>+100" not in line
    assert [b["broken"] for b in json.loads(broken.stdout)["budgets"]] == [
        True, True, True, True, False]

    text = run_cli("diff", str(before), str(after), "--fail-on", "workers>0")
    assert text.exit_code == 1
    assert "workers>0" in text.stdout
    assert "EXCEEDED" in text.stdout


def test_a_bad_rule_is_one_line_before_reading_anything(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("diff", str(tmp_path / "missing.json"), "--fail-on", "live>5MB")
    # A usage error (2), never to be mistaken for a broken budget (1).
    assert_one_line_error(result, contains="bad --fail-on rule 'live>5MB'", code=2)
    unknown = run_cli("diff", str(tmp_path / "missing.json"), "--fail-on", "leaks>0")
    assert_one_line_error(unknown, contains="unknown metric 'leaks'", code=2)
    assert result.stdout == ""


def test_one_recording_compares_its_first_and_last(run_cli: Run, tmp_path: Path) -> None:
    first = make_snapshot(seq=1)
    frames = [first, make_snapshot(seq=2, live_resources=6),
              make_snapshot(seq=3, live_resources=8, timestamp=first.timestamp + 2)]
    path = write_recording(tmp_path / "run.ndjson", frames)
    data = json.loads(run_cli("diff", str(path), "--json").stdout)
    assert (data["before"]["seq"], data["after"]["seq"]) == (1, 3)
    assert data["totals"]["live_resources"]["delta"] == 3
    assert data["after"]["source"] == f"{path} (last of 3)"
    # Two files: the last snapshot of each.
    other = write_recording(tmp_path / "other.ndjson", [make_snapshot(seq=7)])
    data = json.loads(run_cli("diff", str(other), str(path), "--json").stdout)
    assert (data["before"]["seq"], data["after"]["seq"]) == (7, 3)


def test_diff_input_errors_are_one_line(run_cli: Run, tmp_path: Path) -> None:
    single = tmp_path / "one.json"
    single.write_bytes(make_snapshot().to_json())
    assert_one_line_error(run_cli("diff", str(single)), contains="holds one snapshot")
    assert_one_line_error(run_cli("diff", str(single), str(tmp_path / "nope.json")),
                          contains="cannot read")
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(make_snapshot().to_json() + b"\n{oops\n" + make_snapshot().to_json())
    assert_one_line_error(run_cli("diff", str(bad)), contains=f"{bad}:2: not a resinspect")


# -- a real application: open and close tabs, then check what remains ---------------------------


def test_budgets_pass_after_a_clean_close_and_fail_after_a_leak(
        start_app: Callable[..., App], runtime_dir: Path, tmp_path: Path) -> None:
    app = start_app(script=GROWING_APP)
    target = ["--pid", str(app.pid)]

    def snapshot(name: str) -> str:
        path = tmp_path / name
        result = resinspect(runtime_dir, "snapshot", *target, "-o", str(path))
        assert result.returncode == 0, result
        return str(path)

    baseline = snapshot("baseline.json")
    for _ in range(3):  # open and close a tab, three times over
        app.command("open 1")
        app.command("close")
    closed = snapshot("closed.json")
    app.command("open 3")
    app.command("leak")
    leaked = snapshot("leaked.json")

    budgets = ["--fail-on", "live:MediaAnalysisController>0", "--fail-on", "workers>0",
               "--fail-on", "cache_bytes>+10MB", "--fail-on", "bytes:thumbnail>+1MiB"]
    clean = resinspect(runtime_dir, "diff", baseline, closed, *budgets)
    assert (clean.returncode, clean.stderr) == (0, ""), clean
    assert clean.stdout.count(" ok") == 4

    leak = resinspect(runtime_dir, "diff", baseline, leaked, *budgets)
    line = assert_one_line_error(leak, contains="4 budgets exceeded", report_on_stdout=True)
    assert "live:MediaAnalysisController>0 (is 6)" in line  # 3 tabs: a thumbnail, a worker
    assert "workers>0 (is 3)" in line
    assert "cache_bytes>+10MB (+12.0 MiB from A to B)" in line
    assert "bytes:thumbnail>+1MiB (+12.0 MiB from A to B)" in line
    rows = section(leak.stdout, "Components")
    # Tabs #4-#6 leaked (#1-#3 were closed): matched by id, and as one group.
    for number in (4, 5, 6):
        assert rows[f"MediaAnalysisController#{number}"][2:5] == ["0", "2", "+2"]
    assert section(leak.stdout, "Component classes")["MediaAnalysisController"][1:4] == [
        "0", "→", "3"]


def test_diff_groups_instances_by_class_largest_growth_first(run_cli: Run,
                                                              tmp_path: Path) -> None:
    a = make_snapshot(components=[comp("Small", 1, 10)])
    b = make_snapshot(components=[comp("Small", 2, 20),
                                  *(comp(f"ResultsTab#{i}", 1, 1000) for i in range(1, 31))])
    before, after = tmp_path / "a.json", tmp_path / "b.json"
    before.write_bytes(a.to_json())
    after.write_bytes(b.to_json())
    result = run_cli("diff", str(before), str(after))
    assert result.exit_code == 0, result.stderr
    classes = section(result.stdout, "Component classes")
    assert classes["ResultsTab"][1:4] == ["0", "→", "30"]
    assert list(classes) == ["Class", "ResultsTab", "Small"]  # header, then by growth
    instances = section(result.stdout, "Components (matched by id)")
    listed = [key for key in instances if key.startswith(("ResultsTab#", "Small"))]
    assert len(listed) == 15  # the 15 largest changes, ties in natural order
    assert listed[:3] == ["ResultsTab#1", "ResultsTab#2", "ResultsTab#3"]
    assert "16 smaller changes not shown" in result.stdout
