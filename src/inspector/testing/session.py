"""The active half of the pytest plugin: registered only under ``--resinspect``.

For every test:

1. when its function-scoped fixtures start (an autouse fixture, so that the test's own
   service exists), snapshot A of the service and the start of recording (QThread and QTimer
   starts, widget creations: :class:`~.qtwatch.QtWatch`);
2. the test runs as pytest runs it (setup, call, teardown), its reports held back;
3. after the teardown, once what was let go is collected and deleted: snapshot B, the
   marker's rules checked from A to B, and what the test left running or alive;
4. a test that passed but broke a rule or left something behind becomes a failure whose text
   names each rule and thing (with its site and what keeps it alive); details go in a
   ``resinspect`` report section, and ``--resinspect-report=DIR`` gets its A and B as
   ``<test>.before.json`` and ``<test>.after.json``;
5. the reports are logged, and the terminal summary lists the tests that leaked.

Only tests that passed are checked (LeakCanary's rule): a failing test has already said
what is wrong. Under xdist every worker writes its own ``resinspect-<worker>.json`` index in
DIR and the controller merges them into ``resinspect.json``; the per-test files are named
after the test, so workers never write the same file.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from ..errors import BadRule
from ..fleet.budgets import BudgetResult, Rule, check_budgets, describe_value, parse_rules
from ..metrics.snapshot import Snapshot
from ..metrics.text import safe
from .chains import reference_chain
from .fixture import Resinspect, owner_chain
from .qtwatch import Leftover, QtWatch, settle

#: The merged index of a run's findings, written in the report directory.
INDEX = "resinspect.json"
#: How many leaked objects a failure explains with a reference chain (each costs heap scans).
MAX_CHAINS = 5
#: Marker metrics read from the hang log: a test that names one runs the event-loop probe.
HANG_METRICS = frozenset({"hangs", "max_hang_ms"})


@dataclass
class RunState:
    """One test's A snapshot, rules and fixture, from its start to the check."""

    rules: list[Rule]
    fixture: Resinspect
    before: Snapshot


@dataclass
class Finding:
    """A test that leaked or broke a budget, for the summary and the index."""

    nodeid: str
    problems: list[str]
    files: list[str] = field(default_factory=list)


class Session:
    """The plugin's state for one pytest process (a worker's own under xdist)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        report = config.getoption("resinspect_report")
        self.report_dir = Path(report) if report else None
        self.worker = worker_id(config)
        self.watch = QtWatch()
        self.findings: list[Finding] = []  # found in this process
        self.summary: list[tuple[str, str]] = []  # (nodeid, line) from every report seen
        self._service: Any = None
        self._previous: Any = None

    def start(self) -> None:
        """The session starts: a fresh shared service, the Qt classes patched."""
        from ..resources import (
            IResourceManagementService,
            ResourceManagementService,
            register_service,
        )

        # Applications that use the shared service are inspected through this session's
        # own, which starts empty: nothing from before the tests counts.
        self._service = ResourceManagementService()
        self._previous = register_service(IResourceManagementService, self._service)
        self.watch.install()
        if self.report_dir is not None and self.worker == "main":
            self.report_dir.mkdir(parents=True, exist_ok=True)
            for stale in self.report_dir.glob("resinspect-*.json"):
                stale.unlink(missing_ok=True)

    def finish(self) -> None:
        """The session ends: the classes restored, the index written (and merged)."""
        from ..resources import IResourceManagementService, register_service

        self.watch.uninstall()
        register_service(IResourceManagementService, self._previous)
        if self.report_dir is None:
            return
        self.report_dir.mkdir(parents=True, exist_ok=True)
        if self.findings:  # an xdist controller, which runs no test, writes none
            part = self.report_dir / f"resinspect-{self.worker}.json"
            _write_json(part, [vars(f) for f in self.findings])
        if self.worker == "main":
            merge_index(self.report_dir)

    def begin_test(self, request: pytest.FixtureRequest) -> None:
        """A test's function fixtures start: its rules read, A taken, recording on."""
        item = request.node
        texts = [str(arg) for mark in item.iter_markers("resinspect") for arg in mark.args]
        try:
            rules = parse_rules(texts, source="resinspect marker")
        except BadRule as err:
            pytest.fail(str(err), pytrace=False)
        fixture: Resinspect = request.getfixturevalue("resinspect")
        if any(rule.metric in HANG_METRICS for rule in rules) and not fixture.watch_hangs():
            pytest.fail("resinspect marker: hangs and max_hang_ms need a QApplication "
                        "(the qapp fixture) before the test starts", pytrace=False)
        item.stash[STATE] = RunState(rules, fixture, fixture.snapshot(settled=False))
        self.watch.begin()

    def check(self, item: pytest.Item, state: RunState,
              reports: list[pytest.TestReport]) -> None:
        """After the teardown: B, the rules, the leftovers; a passed test that broke or left
        something becomes a failure."""
        call = next((r for r in reports if r.when == "call"), None)
        if call is None or not all(r.passed for r in reports):
            return
        settle()
        after = state.fixture.snapshot(settled=False)
        broken = [r for r in check_budgets(state.rules, state.before, after) if r.broken]
        leftovers = self.watch.leftovers()
        if not broken and not leftovers:
            return
        headline = "; ".join([*(f"{r.rule} {describe_value(r)}" for r in broken),
                              *(f"{x.kind} {x.what} {x.state}" if not x.what.startswith(x.kind)
                                else f"{x.what} {x.state}" for x in leftovers)])
        problems, details = self._explain(state, broken, leftovers)
        # Names come from the application (object names, class names): escaped, as every
        # text output of resinspect is.
        headline, problems, details = safe(headline), [safe(p) for p in problems], \
            [safe(d) for d in details]
        self.watch.stop(leftovers)
        finding = Finding(item.nodeid, problems)
        if self.report_dir is not None:
            finding.files = write_pair(self.report_dir, item.nodeid, state.before, after)
            details.append(f"snapshots: {finding.files[0]} and {finding.files[1]} "
                           f"(resinspect diff {finding.files[0]} {finding.files[1]})")
        self.findings.append(finding)
        call.outcome = "failed"
        verdict = "leaked" if leftovers or any(r.metric not in HANG_METRICS for r in broken) \
            else "froze the event loop"
        call.longrepr = "\n".join([f"resinspect: the test passed but {verdict}: {headline}",
                                   *(f"  {p}" for p in problems)])
        call.sections.append(("resinspect", "\n".join(details)))
        call.user_properties.append(("resinspect", headline))

    def _explain(self, state: RunState, broken: list[BudgetResult],
                 leftovers: list[Leftover]) -> tuple[list[str], list[str]]:
        problems: list[str] = []
        details: list[str] = []
        chains = 0
        for result in broken:
            line = f"budget {result.rule} broken ({describe_value(result)}; " \
                   f"A {result.before}, B {result.after})"
            if (result.metric in ("instances", "live", "bytes", "workers")
                    and result.target is not None and chains < MAX_CHAINS):
                chain = owner_chain(state.fixture.service, result.target)
                if chain:
                    chains += 1
                    line += f"; kept alive by: {' → '.join(chain)}"
            problems.append(line)
        for item in leftovers:
            line = item.line()
            obj = item.ref()
            if obj is not None and chains < MAX_CHAINS:
                chain = reference_chain(obj)
                if chain:
                    chains += 1
                    line += f"; kept alive by: {' → '.join(chain)}"
            del obj
            problems.append(line)
        details.extend(problems)
        if state.rules:
            details.append("rules (A = the test's start, B = after its teardown): "
                           + ", ".join(r.text for r in state.rules))
        return problems, details

    # -- hooks (this object is the plugin registered under --resinspect) --------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self) -> None:
        self.start()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self) -> None:
        # Every test is followed by full collections. What exists now (modules, Qt's
        # bindings, the collected tests) lives for the session: frozen, it is skipped by
        # them, which makes each one about 30 ms (60k objects) cheaper (docs/testing.md).
        gc.collect()
        gc.freeze()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        gc.unfreeze()
        self.finish()

    @pytest.fixture(autouse=True)
    def _resinspect_watch(self, request: pytest.FixtureRequest) -> None:
        """A and the recording start here, before the test's other function fixtures."""
        self.begin_test(request)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None
                                ) -> bool:
        """Run the test as pytest does, then check it before its reports are logged."""
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        try:
            reports = runtestprotocol(item, nextitem=nextitem, log=False)
        finally:
            self.watch.end()
        state = item.stash.get(STATE, None)
        if state is not None:
            try:
                self.check(item, state, reports)
            finally:
                state.fixture.close()
                del item.stash[STATE]
        for report in reports:
            item.ihook.pytest_runtest_logreport(report=report)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # On the controller under xdist too: the summary comes from the reports themselves.
        for name, value in report.user_properties:
            if name == "resinspect":
                self.summary.append((report.nodeid, str(value)))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.summary:
            return
        terminalreporter.write_sep("=", "resinspect")
        count = len(self.summary)
        terminalreporter.line(f"{count} test{'s' if count > 1 else ''} leaked or broke a "
                              "budget:")
        for nodeid, line in self.summary:
            terminalreporter.line(f"  {nodeid}: {line}")
        if self.report_dir is not None:
            terminalreporter.line(f"snapshots and {INDEX} in {self.report_dir} "
                                  "(compare a pair with resinspect diff)")


STATE = pytest.StashKey[RunState]()


def worker_id(config: pytest.Config) -> str:
    """``gw0``… under xdist (its worker id), ``main`` otherwise."""
    workerinput = getattr(config, "workerinput", None)
    if isinstance(workerinput, dict) and workerinput.get("workerid"):
        return str(workerinput["workerid"])
    return os.environ.get("PYTEST_XDIST_WORKER") or "main"


_UNSAFE = re.compile(r"[^A-Za-z0-9._\[\]-]+")


def report_name(nodeid: str) -> str:
    """A file name for a test: its node id with ``/`` and ``::`` as dots, plus a short hash
    of the id whenever that could be ambiguous (a dot or slash of its own in a parameter or
    a directory name, any unsafe character), so two tests never share a name, whichever
    worker ran them."""
    path, _, test = nodeid.partition("::")
    readable = f"{path}::{test}".replace("::", ".").replace("/", ".")
    safe = _UNSAFE.sub("_", readable)[:150]
    ambiguous = "." in test or "/" in test or path.count(".") > 1
    if safe != readable or ambiguous:
        safe += "-" + hashlib.sha1(nodeid.encode()).hexdigest()[:8]
    return safe


def write_pair(directory: Path, nodeid: str, before: Snapshot, after: Snapshot) -> list[str]:
    """``<test>.before.json`` and ``<test>.after.json`` in ``directory``; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    name = report_name(nodeid)
    paths = [directory / f"{name}.before.json", directory / f"{name}.after.json"]
    for path, snap in zip(paths, (before, after), strict=True):
        path.write_bytes(snap.to_json() + b"\n")
    return [str(p) for p in paths]


def merge_index(directory: Path) -> Path:
    """Merge every worker's ``resinspect-<worker>.json`` into ``resinspect.json``."""
    merged: list[Any] = []
    for part in sorted(directory.glob("resinspect-*.json")):
        try:
            merged.extend(json.loads(part.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a worker that died mid-write: its findings are in the terminal output
    merged.sort(key=lambda f: f.get("nodeid", ""))
    path = directory / INDEX
    _write_json(path, merged)
    return path


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
