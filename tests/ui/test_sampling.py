"""The dock starts only a model nobody started, and stops only what it started."""

from __future__ import annotations

import logging

import pytest

from inspector.ui.sampling import SamplingOwner


class Model:
    """A source with the sampling switch of a ``MetricsModel``."""

    def __init__(self, sampling: bool = False, broken: bool = False) -> None:
        self.sampling = sampling
        self.broken = broken
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")
        if self.broken:
            raise RuntimeError("no sampler thread")
        self.sampling = True

    def sample(self) -> None:
        self.calls.append("sample")

    def stop(self) -> None:
        self.calls.append("stop")
        self.sampling = False


def test_starts_an_idle_model_once_and_stops_it_on_release() -> None:
    owner, model = SamplingOwner(), Model()
    assert owner.ensure(model) == ""
    assert owner.ensure(model) == ""
    assert model.calls == ["start", "sample"]  # a first point at once
    owner.release(model)
    owner.release(model)
    assert model.calls == ["start", "sample", "stop"]


def test_leaves_a_model_someone_else_started_alone() -> None:
    owner, model = SamplingOwner(), Model(sampling=True)
    assert owner.ensure(model) == ""
    owner.release(model)
    assert model.calls == []
    assert not owner.owns


def test_a_source_without_the_switch_is_left_alone() -> None:
    owner = SamplingOwner()
    assert owner.ensure(object()) == ""
    assert not owner.owns


def test_a_failing_start_is_reported_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    owner, model = SamplingOwner(), Model(broken=True)
    assert owner.ensure(model) == "could not start sampling: no sampler thread"
    assert not owner.owns
    owner.release(model)
    assert model.calls == ["start"]


def test_a_failing_stop_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    owner, model = SamplingOwner(), Model()
    owner.ensure(model)

    def broken_stop() -> None:
        raise OSError("gone")

    model.stop = broken_stop  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        owner.release(model)
    assert "stopping the source's sampling failed" in caplog.text
    assert not owner.owns
