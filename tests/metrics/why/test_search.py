"""The search for what keeps an object alive, on real heaps: globals, classes, threads."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Iterator

import pytest

from inspector.metrics.why import explain

from ..helpers import Thing


class Registry:
    items: dict[str, object] = {}


@pytest.fixture
def module() -> Iterator[types.ModuleType]:
    mod = types.ModuleType("why_search_probe")
    mod.__dict__["HOLD"] = []
    sys.modules[mod.__name__] = mod
    yield mod
    del sys.modules[mod.__name__]


def test_a_module_global_is_the_root(module: types.ModuleType) -> None:
    box: list[object] = [Thing()]
    module.__dict__["HOLD"].append(box[0])
    result = explain(box, "memory-1", "thumb", "app.py:3")
    assert box == []  # the caller keeps no reference of its own
    assert result.resource_id == "memory-1"
    assert result.complete
    assert [(link.kind, link.name) for link in result.chain] == [
        ("module global", "why_search_probe.HOLD"), ("list item", "list[0]"),
        ("object", "Thing 'thumb'")]


def test_a_class_attribute_is_the_root() -> None:
    box: list[object] = [Thing()]
    Registry.items["kept"] = box[0]
    try:
        result = explain(box, "memory-2", "", "")
    finally:
        Registry.items.clear()
    assert result.complete
    root = result.chain[0]
    assert root.kind == "class attribute"
    assert root.name.endswith("Registry.items")
    assert [link.kind for link in result.chain[1:]] == ["dict value", "object"]


def test_another_threads_frame_is_the_root_when_nothing_else_holds_it() -> None:
    box: list[object] = [Thing()]
    holding = threading.Event()
    release = threading.Event()

    def keep(kept: object) -> None:
        holding.set()
        release.wait(10)
        del kept

    thread = threading.Thread(target=keep, args=(box[0],), name="keeper")
    thread.start()
    try:
        assert holding.wait(5)
        result = explain(box, "memory-3", "", "")
    finally:
        release.set()
        thread.join(5)
    root = result.chain[0]
    assert root.kind == "thread frame"
    assert root.site.endswith("in thread keeper")
    assert "keep (" in root.site


def test_out_of_time_the_answer_says_it_is_incomplete(module: types.ModuleType) -> None:
    box: list[object] = [Thing()]
    module.__dict__["HOLD"].append(box[0])
    result = explain(box, "memory-4", "", "", budget_s=0.0)
    assert not result.complete
    assert result.chain[-1].kind == "object"
