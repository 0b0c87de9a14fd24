"""A live application's metrics over its socket (a real server and model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.sources import ClearableSource, FailingSource, MetricsSource, RemoteSource
from tests.server.conftest import wait_for

if TYPE_CHECKING:
    from inspector.server import InspectorServer


def test_it_follows_the_application_and_keeps_the_last_state_when_it_goes(
        server: InspectorServer) -> None:
    source = RemoteSource(server.path, interval=0.05, timeout=2.0)
    try:
        for kind in (MetricsSource, FailingSource, ClearableSource):
            assert isinstance(source, kind)
        assert source.app == "test-app"
        assert source.error is None
        first = source.snapshot().seq
        assert wait_for(lambda: source.snapshot().seq > first)  # pushes arrive
        assert wait_for(lambda: len(source.history().t) >= 2)
        assert source.resources().total >= 0
        last = source.snapshot()
        server.close()
        assert wait_for(lambda: source.error is not None)
        assert source.snapshot() is last
        assert source.resources().items == []
    finally:
        source.close()
