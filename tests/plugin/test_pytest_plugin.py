"""The pytest plugin, in real inner pytest runs (``pytester``, in subprocesses: Qt is involved).

The inner runs load the plugin the way a user's run does: through the ``pytest11`` entry point
of the installed package, next to pytest-qt and pytest-timeout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

# A tab whose controller registers with the shared service and whose slot is a lambda on a
# long-lived bus: the lambda captures the tab, so the bus keeps every closed tab alive until
# the lambda is disconnected.
TAB_APP = '''
import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from inspector.resources import BaseController

DISCONNECT = {disconnect}


class LogBus(QObject):
    line = Signal(str)


BUS = LogBus()


class LoggerTabController(BaseController):
    pass


class LoggerTab(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.lines = []
        self.controller = LoggerTabController(parent=self)
        self.on_line = lambda text: self.lines.append(text)  # SITE:lambda
        BUS.line.connect(self.on_line)

    def close_tab(self) -> None:
        if DISCONNECT:
            BUS.line.disconnect(self.on_line)
        self.controller.cleanup()


@pytest.mark.resinspect("instances:LoggerTabController>0")
def test_open_and_close_a_tab(qtbot):
    window = QTabWidget()
    qtbot.addWidget(window)
    tab = LoggerTab()  # SITE:tab
    window.addTab(tab, "Logs")
    BUS.line.emit("hello")
    assert tab.lines == ["hello"]
    window.removeTab(0)
    tab.setParent(None)
    tab.close_tab()
'''

LEFTOVERS = '''
import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QLabel, QMainWindow, QWidget

from inspector.resources import BaseController, ResourceType

KEEP = []


class Spinner(QThread):
    def run(self):
        while not self.isInterruptionRequested():
            self.msleep(5)


def test_thread_left_running():
    thread = Spinner()
    KEEP.append(thread)
    thread.start()  # SITE:thread


def test_timer_left_active(qapp):
    timer = QTimer()
    KEEP.append(timer)
    timer.start(60_000)  # SITE:timer


def test_window_left_alive(qapp):
    KEEP.append(QWidget())  # SITE:widget
    KEEP[-1].setObjectName("evil\\x1b[2J\\u202e")


class MainWindow(QMainWindow):
    def __init__(self):
        super().__init__()


def test_main_window_left_alive(qapp):
    KEEP.append(MainWindow())  # SITE:mainwindow


def test_everything_stopped_and_closed(qtbot):
    thread = Spinner()
    thread.start()
    timer = QTimer()
    timer.start(60_000)
    panel = QWidget()
    qtbot.addWidget(panel)
    QLabel("a child, not a window", panel)
    timer.stop()
    thread.requestInterruption()
    thread.wait(5000)


def test_failing_on_its_own_is_not_checked():
    thread = Spinner()
    KEEP.append(thread)
    thread.start()
    assert False, "its own failure"


class Owner(BaseController):
    pass


@pytest.mark.resinspect("live:Owner>+0", "live:worker>0")
def test_marker_rules_read_a_and_b(qapp):
    owner = Owner()
    KEEP.append(owner)
    owner.resources.track([1, 2, 3], ResourceType.CACHE, size_bytes=100)


@pytest.mark.resinspect("live:Owner>0", "leaks>0")
def test_a_bad_rule_is_an_error_of_that_test():
    pass


def test_last_clean_test():
    pass
'''


def site(path: Path, tag: str) -> str:
    """``path:line`` of the line of the file at ``path`` tagged ``# SITE:tag``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if f"# SITE:{tag}" in line:
            return f"{path}:{number}"
    raise AssertionError(f"no SITE:{tag} in the source")


def test_a_tab_leaking_through_a_lambda_fails_until_the_lambda_is_disconnected(
        pytester: pytest.Pytester) -> None:
    source = TAB_APP.format(disconnect=False)
    path = pytester.makepyfile(test_tabs=source)
    report = pytester.path / "leaks"
    leaked = pytester.runpytest_subprocess("--resinspect", f"--resinspect-report={report}",
                                           "-p", "no:cacheprovider")
    leaked.assert_outcomes(failed=1)
    out = leaked.stdout.str()
    failure = out[out.index("resinspect: the test passed but leaked"):]
    # The rule broken, the tab's class, and the lambda with its definition site.
    assert "instances:LoggerTabController>0 broken (is 1; A 0, B 1)" in failure
    assert f"widget LoggerTab still alive (top-level), created at test_open_and_close_a_tab " \
           f"({site(path, 'tab')})" in failure
    lambda_site = f"LoggerTab.__init__.<locals>.<lambda> ({site(path, 'lambda')})"
    assert f"kept alive by: {lambda_site}, held from native code" in failure
    assert "→ LoggerTab.__init__.<locals>.<lambda> captures self → LoggerTab.controller → " \
        "LoggerTabController" in failure
    assert "- resinspect -" in out  # the report section
    summary = out[out.index("= resinspect ="):]
    assert "1 test leaked or broke a budget:" in summary
    assert "test_tabs.py::test_open_and_close_a_tab" in summary

    # The snapshots of A and B, which resinspect diff reads and fails on.
    before = report / "test_tabs.py.test_open_and_close_a_tab.before.json"
    after = report / "test_tabs.py.test_open_and_close_a_tab.after.json"
    diff = run_cli("diff", str(before), str(after), "--fail-on",
                   "instances:LoggerTabController>0")
    assert diff.exit_code == 1
    assert "instances:LoggerTabController>0 (is 1)" in diff.stderr
    index = json.loads((report / "resinspect.json").read_text())
    assert [f["nodeid"] for f in index] == ["test_tabs.py::test_open_and_close_a_tab"]
    assert index[0]["files"] == [str(before), str(after)]

    # Without --resinspect the plugin is inert: the same test passes.
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)

    # Disconnected, the tab goes with its controller: the test passes, no report is written.
    pytester.makepyfile(test_tabs=TAB_APP.format(disconnect=True))
    fixed_report = pytester.path / "fixed"
    fixed = pytester.runpytest_subprocess("--resinspect", f"--resinspect-report={fixed_report}",
                                          "-p", "no:cacheprovider")
    fixed.assert_outcomes(passed=1)
    assert "= resinspect =" not in fixed.stdout.str()
    assert sorted(p.name for p in fixed_report.iterdir()) == ["resinspect.json"]
    assert json.loads((fixed_report / "resinspect.json").read_text()) == []


def test_leftovers_are_named_with_their_sites_and_only_passed_tests_are_checked(
        pytester: pytest.Pytester) -> None:
    path = pytester.makepyfile(test_leftovers=LEFTOVERS)
    result = pytester.runpytest_subprocess("--resinspect", "-p", "no:cacheprovider", "-rA")
    out = result.stdout.str()
    result.assert_outcomes(passed=2, failed=6, errors=1)

    def failure_of(test: str) -> str:
        start = out.index(f"_ {test} _")
        end = out.find("\n___", start + 1)
        return out[start:end if end != -1 else None]

    assert f"QThread Spinner still running, started at test_thread_left_running " \
           f"({site(path, 'thread')})" in failure_of("test_thread_left_running")
    assert "kept alive by: module global test_leftovers.KEEP → list[0] → Spinner" in \
        failure_of("test_thread_left_running")
    assert f"QTimer still active, started at test_timer_left_active " \
           f"({site(path, 'timer')})" in failure_of("test_timer_left_active")
    # The application's names are escaped: no terminal control reaches the output.
    assert "\x1b[2J" not in out
    assert "\u202e" not in out
    assert f"widget QWidget 'evil\\x1b[2J\\u202e' still alive (top-level), created at " \
           "test_window_left_alive " \
           f"({site(path, 'widget')})" in failure_of("test_window_left_alive")
    # A subclass of a Qt widget class other than QWidget has its creation site too.
    assert f"widget MainWindow still alive (top-level), created at test_main_window_left_alive " \
           f"({site(path, 'mainwindow')})" in failure_of("test_main_window_left_alive")
    # A failing test says what it says: its thread is not reported on top.
    own = failure_of("test_failing_on_its_own_is_not_checked")
    assert "its own failure" in own
    assert "resinspect" not in own
    # Marker rules: +0 is growth from A, a type name picks a type.
    rules = failure_of("test_marker_rules_read_a_and_b")
    assert "live:Owner>+0 broken (+1 from A to B; A 0, B 1)" in rules
    assert "live:worker>0 broken" not in rules
    # A rule that cannot be read is that test's error, in one line.
    assert "bad resinspect marker rule 'leaks>0': unknown metric 'leaks'" in out
    for clean in ("test_everything_stopped_and_closed", "test_last_clean_test"):
        assert f"PASSED test_leftovers.py::{clean}" in out
    summary = out[out.index("= resinspect ="):out.index("short test summary")]
    assert "5 tests leaked or broke a budget:" in summary


def test_without_the_flag_nothing_is_imported_and_options_are_listed(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain='''
        import sys

        def test_no_qt_and_no_resinspect_loaded(request):
            assert request.config.pluginmanager.has_plugin("resinspect")
            assert not [m for m in sys.modules if m.startswith("PySide6")]
            # The plugin and the package's stdlib-only front: nothing else of resinspect.
            assert {m for m in sys.modules if m.split(".")[0] in ("inspector", "cli")} == {
                "inspector", "inspector.attach", "inspector.pytest_plugin"}
    ''')
    # pytest-qt itself imports Qt when it configures: leave it out to see what we import.
    result = pytester.runpytest_subprocess("-p", "no:pytest-qt", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    helped = pytester.runpytest_inprocess("--help")
    assert "--resinspect-report=DIR" in helped.stdout.str()
    assert "resinspect (bool)" in helped.stdout.str()


def test_parallel_workers_write_their_own_index_and_the_controller_merges_them(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers as pytest-xdist starts them (PYTEST_XDIST_WORKER), each with its own tests,
    into one report directory; one enabled by the ini file instead of the flag."""
    from inspector.testing.session import merge_index

    report = pytester.path / "reports"
    for name in ("first", "second"):
        pytester.makepyfile(**{f"test_{name}": f'''
            from PySide6.QtCore import QTimer
            KEEP = []

            def test_{name}_leaks(qapp):
                KEEP.append(QTimer())
                KEEP[-1].start(60_000)

            def test_{name}_is_clean():
                pass
        '''})
    pytester.makeini("[pytest]\nresinspect = true\n")
    for worker, name in (("gw0", "first"), ("gw1", "second")):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        result = pytester.runpytest_subprocess(f"test_{name}.py", "-p", "no:cacheprovider",
                                               f"--resinspect-report={report}")
        result.assert_outcomes(passed=1, failed=1)
    # Each worker wrote its own index and no merged one (that is the controller's).
    assert sorted(p.name for p in report.glob("resinspect*.json")) == [
        "resinspect-gw0.json", "resinspect-gw1.json"]
    merged = json.loads(merge_index(report).read_text())
    assert [f["nodeid"] for f in merged] == ["test_first.py::test_first_leaks",
                                             "test_second.py::test_second_leaks"]
    for finding in merged:
        assert all(Path(f).is_file() for f in finding["files"])
    assert "PYTEST_XDIST_WORKER" in os.environ  # the workers' environment, until teardown


FREEZES = '''
import time

import pytest
from PySide6.QtCore import QCoreApplication, QTimer


def slow_slot() -> None:
    time.sleep(0.6)


def run_loop_until(done) -> None:
    deadline = time.monotonic() + 10
    while not done() and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.005)


def stall_in_a_slot(ms: int) -> None:
    ran = []
    QTimer.singleShot(0, lambda: (time.sleep(ms / 1000), ran.append(1)))
    run_loop_until(lambda: bool(ran))
    first = []
    QTimer.singleShot(120, lambda: first.append(1))  # the loop turns once more after it
    run_loop_until(lambda: bool(first))


@pytest.mark.resinspect("max_hang_ms>400")
def test_a_600_ms_slot_breaks_the_budget(qapp):
    stall_in_a_slot(600)


@pytest.mark.resinspect("max_hang_ms>400", "hangs>+1")
def test_a_50_ms_slot_is_within_it(qapp):
    stall_in_a_slot(50)
'''


def test_a_slot_that_freezes_the_loop_breaks_a_hang_budget(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_freezes=FREEZES)
    result = pytester.runpytest_subprocess("--resinspect", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    failure = out[out.index("resinspect: the test passed but froze the event loop: "):]
    assert failure.startswith("resinspect: the test passed but froze the event loop: "
                              "max_hang_ms>400 is ")
    duration = int(failure.split("max_hang_ms>400 is ")[1].split()[0])
    assert 500 <= duration <= 700  # the 600 ms slot, dated to half a beat
    assert "FAILED test_freezes.py::test_a_600_ms_slot_breaks_the_budget" in out
    # Without --resinspect the marker is inert: both pass.
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
