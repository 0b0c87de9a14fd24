"""One stall's samples while it lasts."""

from __future__ import annotations

import pytest

from inspector.metrics.hangs import samples
from inspector.metrics.hangs.samples import StallSamples

A = ("main (app.py:1)", "work (app.py:5)")
B = ("main (app.py:1)", "other (app.py:9)")


def test_each_distinct_stack_is_kept_once_and_the_timeline_reads_them_back() -> None:
    stall = StallSamples(beat=1.0, interval=0.01)
    stall.add(1.1, list(A), False)
    stall.add(1.2, list(B), True)
    stall.add(1.3, list(A), False)
    assert len(stall.stacks) == 2
    assert stall.timeline() == [(1.1, A, False), (1.2, B, True), (1.3, A, False)]


def test_past_the_cap_every_other_sample_goes_and_the_pace_halves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(samples, "MAX_SAMPLES", 8)
    stall = StallSamples(beat=0.0, interval=0.01)
    for n in range(8):
        stall.add(n * 0.01, list(A), False)
    assert len(stall.points) == 4
    assert [t for t, _, _ in stall.timeline()] == pytest.approx([0.0, 0.02, 0.04, 0.06])
    assert stall.interval == pytest.approx(0.02)


def test_the_cpu_rate_is_the_share_of_a_core_between_first_and_latest_reading() -> None:
    stall = StallSamples(beat=0.0, interval=0.01)
    assert stall.cpu_rate() == 1.0  # unknown
    stall.add_cpu(0.0, 5.0)
    stall.add_cpu(0.5, 5.1)
    stall.add_cpu(1.0, 5.5)  # replaces the latest, keeps the first
    assert stall.cpu == [(0.0, 5.0), (1.0, 5.5)]
    assert stall.cpu_rate() == pytest.approx(0.5)
    short = StallSamples(beat=0.0, interval=0.01)
    short.add_cpu(0.0, 0.0)
    short.add_cpu(0.01, 0.0)
    assert short.cpu_rate() == 1.0  # too short a span to tell
