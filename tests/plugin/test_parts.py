"""The plugin's parts in-process: reference chains, growth, report names, the Qt watch."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QThread, QTimer, Signal

from inspector.metrics.snapshot import Snapshot
from inspector.testing.chains import NATIVE, reference_chain
from inspector.testing.fixture import still_growing
from inspector.testing.qtwatch import QtWatch, settle
from inspector.testing.session import merge_index, report_name, write_pair
from tests.fleet.conftest import make_snapshot

_REGISTRY: dict[str, list[object]] = {}


class Bus(QObject):
    changed = Signal()


class Holder:
    pass


@pytest.mark.parametrize("frozen", [False, True])
def test_a_chain_from_a_module_global(frozen: bool) -> None:
    target = Holder()
    _REGISTRY["tabs"] = [object(), target]
    if frozen:  # as under the plugin: the module's dict is frozen, invisible to get_referrers
        gc.freeze()
    try:
        # A bound no working search meets here (a loaded machine must not make it None).
        chain = reference_chain(target, budget_s=30)
        assert gc.get_freeze_count() > 0 if frozen else gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        _REGISTRY.clear()
    assert chain == [f"module global {__name__}._REGISTRY", "dict['tabs']", "list[1]", "Holder"]


def test_a_lambda_connected_to_a_signal_is_held_from_native_code(qapp: object) -> None:
    bus = Bus()

    def connect() -> weakref.ref[Holder]:
        holder = Holder()
        bus.changed.connect(lambda: holder)  # a closure over the holder, kept by Qt
        return weakref.ref(holder)

    ref = connect()
    gc.collect()
    chain = reference_chain(ref())
    assert chain is not None
    line = connect.__code__.co_firstlineno + 2
    lambda_name = f"{connect.__qualname__}.<locals>.<lambda>"
    assert chain == [f"{lambda_name} ({__file__}:{line}), {NATIVE} (Qt signal changed)",
                     f"{lambda_name} captures holder", "Holder"]
    bus.changed.disconnect()
    gc.collect()
    assert ref() is None  # disconnected, nothing holds it


def test_garbage_in_a_cycle_has_no_chain() -> None:
    gc.disable()
    try:
        a, b = Holder(), Holder()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        ref = weakref.ref(a)
        del a, b
        assert reference_chain(ref()) is None  # only the cycle holds it: no root
    finally:
        gc.enable()
        gc.collect()


@pytest.mark.parametrize(("values", "growing"), [
    ([1, 2, 3, 4, 5], True),
    ([1, 1, 1, 1, 2], True),
    ([3, 3, 3], False),
    ([1, 2, 1, 2, 1], False),  # noise, not a leak
    ([5, 6, 5, 6, 6], False),  # fell on the way
    ([4, 3, 2], False),
])
def test_still_growing_means_rising_and_never_falling(values: list[int], growing: bool) -> None:
    assert still_growing(values) is growing


def test_report_names_are_readable_and_never_shared(tmp_path: Path) -> None:
    assert report_name("tests/test_tabs.py::test_close") == "tests.test_tabs.py.test_close"
    odd = [report_name("t.py::test[a b]"), report_name("t.py::test[a_b]"),
           report_name("t.py::test[a/b]"), report_name("t.py::test[a.b]")]
    assert len(set(odd)) == 4
    assert all(len(report_name("t.py::" + "x" * 400)) < 200 for _ in range(1))
    before, after = make_snapshot(seq=1), make_snapshot(seq=2, live_resources=9)
    files = write_pair(tmp_path, "t.py::test[a b]", before, after)
    assert [Snapshot.from_json(Path(f).read_bytes()).seq for f in files] == [1, 2]
    (tmp_path / "resinspect-gw1.json").write_text('[{"nodeid": "b", "problems": []}]')
    (tmp_path / "resinspect-gw0.json").write_text('[{"nodeid": "a", "problems": []}]')
    (tmp_path / "resinspect-gw2.json").write_text('[{"nodeid": "c", "prob')  # died mid-write
    merged = merge_index(tmp_path).read_text()
    assert [line.strip() for line in merged.splitlines() if "nodeid" in line] == [
        '"nodeid": "a",', '"nodeid": "b",']


class Sleeper(QThread):
    def run(self) -> None:
        while not self.isInterruptionRequested():
            self.msleep(5)


def test_the_watch_records_only_between_begin_and_end(qapp: object) -> None:
    originals = (QTimer.__dict__["start"], QThread.__dict__["start"])
    watch = QtWatch()
    watch.install()
    assert QTimer.__dict__["start"] is not originals[0]
    try:
        before = QTimer()
        before.start(60_000)  # started before the test: not the test's
        watch.begin()
        timer = QTimer()
        timer.start(60_000)
        thread = Sleeper()
        thread.start()
        stopped = QTimer()
        stopped.start(60_000)
        stopped.stop()
        watch.end()
        after = QTimer()
        after.start(60_000)  # after the test: not the test's either
        settle()
        found = watch.leftovers(grace_s=0.05)
        assert sorted((x.kind, x.state) for x in found) == [
            ("QThread", "still running"), ("QTimer", "still active")]
        assert all("test_the_watch_records_only_between_begin_and_end" in x.site
                   for x in found)
        watch.stop(found)
        assert not thread.isRunning()
        assert not timer.isActive()
        for t in (before, after):
            t.stop()
    finally:
        watch.uninstall()
    assert (QTimer.__dict__["start"], QThread.__dict__["start"]) == originals
