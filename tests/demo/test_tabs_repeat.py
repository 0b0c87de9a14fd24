"""The demo's tabs, opened and closed again and again, leave nothing behind.

The pytest plugin's ``resinspect.repeat`` (memlab's idea) runs open-then-close five times and
fails when any component class, resource type or class of live Qt object still grows after
the first round. Each round also starts the tab's job, so its worker threads are part of it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from inspector.demo.window import TAB_KINDS, DemoWindow
from inspector.resources import ResourceManagementService
from inspector.testing.fixture import Resinspect

CONTROLLERS = {"media": "MediaAnalysisController", "hashing": "HashController",
               "copy": "CopyVerifyController", "workflow": "ForensicWorkflowController"}


@pytest.fixture
def resinspect_service(service: ResourceManagementService) -> ResourceManagementService:
    """The plugin reads the service the demo's windows are built on."""
    return service


@pytest.mark.parametrize("key", [kind.key for kind in TAB_KINDS])
def test_opening_and_closing_a_tab_five_times_grows_nothing(
        key: str, make_window: Callable[..., DemoWindow], resinspect: Resinspect) -> None:
    window = make_window(open_tabs=False)
    opened: list[str] = []

    def open_and_start() -> None:
        tab = window.open_tab(key)
        opened.append(tab.controller.component_id)
        assert tab.start()  # the job runs: workers, thumbnails, caches

    counts = resinspect.repeat(open_and_start, lambda: window.close_tab(key), times=5)
    assert opened == [f"{CONTROLLERS[key]}#{n}" for n in _numbers(opened)]
    assert len(set(opened)) == 5  # a new controller each round
    # Closed and deleted each round: no controller alive, nothing live, after any round.
    assert f"instances:{CONTROLLERS[key]}" not in counts
    assert not any(values[-1] for name, values in counts.items() if name.startswith("live:"))
    assert counts["qobjects:DemoWindow"] == [1] * 5  # the census sees the live window


def _numbers(ids: list[str]) -> list[int]:
    return [int(cid.rpartition("#")[2]) for cid in ids]


def test_a_tab_kept_after_closing_fails_the_repeat(
        make_window: Callable[..., DemoWindow], resinspect: Resinspect) -> None:
    window = make_window(open_tabs=False)
    closed: list[object] = []  # a "recently closed" list nobody empties: the leak

    def close() -> None:
        closed.append(window.tab("hashing"))
        window.tabs.removeTab(0)
        window._open.pop("hashing")  # closed on screen, never shut down nor deleted

    with pytest.raises(pytest.fail.Exception) as failure:
        resinspect.repeat(lambda: window.open_tab("hashing"), close, times=4)
    message = str(failure.value)
    assert "still growing from round 1 to 4" in message
    assert "instances:HashController: 1 → 2 → 3 → 4" in message
    assert "qobjects:HashingTab: 1 → 2 → 3 → 4" in message
    # What keeps the newest controller alive, from the root down.
    # (`closed` is a cell of the running test's frame: its locals hold the list itself.)
    assert "kept alive by: local closed of test_a_tab_kept_after_closing_fails_the_repeat (" \
        in message
    assert ") in thread MainThread → list[3] → HashingTab.controller → HashController\n" \
        in message
    for tab in closed:
        tab.shutdown()  # type: ignore[attr-defined]
