"""The one MetricsSource protocol and its capabilities, against the real implementations."""

from __future__ import annotations

from inspector.metrics import MetricsModel
from inspector.server import source as protocols
from inspector.server.source import (
    MetricsSource,
    ProbedSource,
    ServicedSource,
    StallWatchingSource,
)
from inspector.sources import RecordingSource
from tests.ui.fakes import FakeSource, make_snapshot

CAPABILITIES = (protocols.ClearableSource, protocols.ExplainingSource,
                protocols.FailingSource, protocols.HangSource, protocols.NamedSource,
                ProbedSource, protocols.SamplingSource, ServicedSource, StallWatchingSource)


def _capabilities(source: object) -> set[str]:
    return {kind.__name__ for kind in CAPABILITIES if isinstance(source, kind)}


def test_the_model_is_a_source_with_every_in_process_capability(model: MetricsModel) -> None:
    # Statically too: mypy checks these assignments against the protocols.
    as_source: MetricsSource = model
    as_stacks: ProbedSource = model
    as_workers: ServicedSource = model
    as_stalls: StallWatchingSource = model
    assert isinstance(as_source, MetricsSource)
    assert as_stacks.probe.main_stack is model.probe.main_stack
    assert list(as_workers.service.store.tracked_workers()) == []
    assert as_stalls is model
    assert _capabilities(model) == {"ClearableSource", "ExplainingSource", "HangSource",
                                    "NamedSource", "ProbedSource", "SamplingSource",
                                    "ServicedSource", "StallWatchingSource"}


def test_a_replay_is_a_source_that_can_do_nothing_more() -> None:
    replay: MetricsSource = RecordingSource([make_snapshot()])
    assert isinstance(replay, MetricsSource)
    assert _capabilities(replay) == set()


def test_a_plain_object_with_the_three_reads_is_a_source() -> None:
    assert isinstance(FakeSource(), MetricsSource)
    assert not isinstance(object(), MetricsSource)
