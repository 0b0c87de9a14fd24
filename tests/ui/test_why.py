"""The selected suspect's `why`: worked out on its own thread, shown when it comes back."""

from __future__ import annotations

import threading
import time

import pytest
from pytestqt.qtbot import QtBot

from inspector.metrics.snapshot import WhyLink, WhyResult
from inspector.ui.why import PROMPT, WhyLabel, format_why


def result(rid: str = "r1") -> WhyResult:
    return WhyResult(resource_id=rid, complete=True, chain=[
        WhyLink(kind="module global", name="app._CACHE\x1b[2J", site="app.py:3"),
        WhyLink(kind="object", name="Blob")])


def test_format_why_lists_the_chain_root_first_escaped() -> None:
    text = format_why(result())
    assert text.splitlines() == [
        "What keeps r1 alive, root first:",
        "1. module global: app._CACHE\\x1b[2J   at app.py:3",
        "2. object: Blob",
    ]


def test_the_answer_comes_from_another_thread(qtbot: QtBot) -> None:
    label = WhyLabel()
    qtbot.addWidget(label)
    assert label.text() == PROMPT
    threads: list[threading.Thread] = []

    def source(rid: str) -> WhyResult:
        threads.append(threading.current_thread())
        return result(rid)

    label.source = source
    label.ask("r1")
    qtbot.waitUntil(lambda: label.text().startswith("What keeps r1 alive"), timeout=5000)
    assert threads
    assert threads[0] is not threading.main_thread()


def test_a_gone_resource_and_a_failure_are_said_and_a_stale_answer_dropped(
        qtbot: QtBot) -> None:
    label = WhyLabel()
    qtbot.addWidget(label)
    release = threading.Event()

    def source(rid: str) -> WhyResult:
        if rid == "slow":
            release.wait(5)
            return result("slow")
        if rid == "gone":
            raise LookupError(rid)
        raise ValueError("heap walk failed")

    label.source = source
    label.ask("slow")
    label.ask("gone")  # the user moved on before "slow" came back
    qtbot.waitUntil(lambda: label.text() == "gone is gone.", timeout=5000)
    release.set()
    label.ask("broken")
    qtbot.waitUntil(lambda: label.text().startswith("why broken failed: ValueError"),
                    timeout=5000)
    assert "slow" not in label.text()


def test_without_a_source_it_says_why_not(qtbot: QtBot) -> None:
    label = WhyLabel()
    qtbot.addWidget(label)
    label.ask("r1")
    assert label.text() == "Why it is alive is shown for a live application."
    label.source = result
    label.ask("")
    assert label.text() == "No resource to explain."


def test_an_answer_for_a_deleted_label_is_dropped_quietly(
        qapp: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import shiboken6

    raised: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    label = WhyLabel()
    release = threading.Event()
    workers: list[threading.Thread] = []

    def source(rid: str) -> WhyResult:
        workers.append(threading.current_thread())
        release.wait(5)
        return result(rid)

    label.source = source
    label.ask("r1")
    shiboken6.delete(label)  # the panel closed while the heap was being walked
    release.set()
    deadline = time.monotonic() + 5
    while not workers and time.monotonic() < deadline:
        time.sleep(0.01)
    workers[0].join(5)
    assert not workers[0].is_alive()
    assert raised == []  # nothing raised into a thread nobody watches
