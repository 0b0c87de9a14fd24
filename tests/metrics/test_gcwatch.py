"""The collection watch: when full collections ran, and who is told when one starts."""

from __future__ import annotations

import gc

from inspector.metrics.gcwatch import CollectionWatch


def test_listeners_hear_full_collections_start_and_nothing_else() -> None:
    watch = CollectionWatch()
    heard: list[str] = []

    def first() -> None:
        heard.append("first")

    def second() -> None:
        heard.append("second")

    watch.on_full_start(first)
    watch.on_full_start(second)
    watch.on_full_start(first)  # once only
    gc.callbacks.append(watch.callback)
    try:
        gc.collect(0)
        gc.collect(1)
        assert heard == []
        gc.collect()
        assert heard == ["first", "second"]
        watch.on_full_start(first, remove=True)
        gc.collect()
        assert heard == ["first", "second", "second"]
        assert watch.last_started > float("-inf")
        assert watch.confirmed(watch.last_started - 1.0)
    finally:
        gc.callbacks.remove(watch.callback)
