"""Leaks named in a program nobody changed: a dialog kept alive by a lambda on a long-lived
signal is ``retained_after_close`` within 10 s of its close; the same program fixed, and one
that reuses a single dialog, raise nothing over 30 s."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.conftest import APPS
from tests.reach.helpers import RunApp

DIALOG_APP = str(APPS / "dialog_app.py")


def _retained(snap: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in snap["leak_suspects"] if s["reason"] == "retained_after_close"]


def test_a_leaked_dialog_is_named_and_a_fixed_one_is_not(
        run_app: Callable[..., RunApp]) -> None:
    leaky = run_app(DIALOG_APP, "leak")
    fixed = run_app(DIALOG_APP, "fixed")
    reuse = run_app(DIALOG_APP, "reuse")
    for app in (leaky, fixed, reuse):
        app.expect("READY", timeout=60)
    closed_at, _ = leaky.expect("CLOSED 1", timeout=30)
    # Closed dialogs of one class and site are one row with a count (its newest member).
    snap = leaky.wait_for(lambda s: any(x["component_id"].startswith("ReportDialog#")
                                        for x in _retained(s)), timeout=10)
    assert time.monotonic() - closed_at <= 10.5  # the poll's own last step included
    row = next(x for x in _retained(snap) if x["component_id"].startswith("ReportDialog#"))
    assert row["resource_type"] == "widget"
    assert "newer ReportDialog" in row["detail"]
    assert row["site"].startswith("open_report (")
    assert row["confirmed"]

    # The fixed program and the reusing one, watched for 30 s from their first close.
    fixed.expect("CLOSED 1", timeout=30)
    reuse.expect("CLOSED 1", timeout=30)
    deadline = time.monotonic() + 30
    seen = 0
    while time.monotonic() < deadline:
        for app in (fixed, reuse):
            snap = app.snapshot()
            assert snap["leak_suspects"] == [], snap["leak_suspects"]
            seen = max(seen, sum(o["kind"] == "window" for o in snap["qt_objects"]))
        time.sleep(1.0)
    assert seen >= 2  # they did open and close dialogs all along
    states = {o["component_id"]: o["state"] for o in fixed.snapshot()["qt_objects"]}
    assert states.get("ReportDialog#1") == "deleted"  # the fixed one's dialogs do go
    for app in (leaky, fixed, reuse):
        assert app.quit() == 0, app.stderr[-2000:]
