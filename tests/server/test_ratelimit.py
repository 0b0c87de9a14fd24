"""Warnings about clients: a burst is logged, the rest only counted."""

from __future__ import annotations

import logging

import pytest

from inspector.server.ratelimit import LOG_BURST, LOG_WINDOW, RateLimitedLog


def test_a_flood_makes_a_burst_then_one_line_then_a_count(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    caplog.set_level(logging.WARNING, logger="inspector.server")
    warn = RateLimitedLog(clock=lambda: now[0])
    for i in range(50):
        warn.warning("refused", "refused client %d", i)
    warn.warning("dropped", "dropped one")  # another kind has a window of its own
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:LOG_BURST] == [f"refused client {i}" for i in range(LOG_BURST)]
    assert "more refused warnings follow" in lines[LOG_BURST]
    assert lines[LOG_BURST + 1:] == ["dropped one"]
    caplog.clear()
    now[0] += LOG_WINDOW  # a quiet spell: the count comes with the next one
    warn.warning("refused", "refused client again")
    assert [r.getMessage() for r in caplog.records] == [
        f"resinspect: {50 - LOG_BURST} more refused warnings in 10 s were not logged",
        "refused client again"]
