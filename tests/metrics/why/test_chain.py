"""From a root found to the links a user reads (a holder graph built by hand here)."""

from __future__ import annotations

import types
from typing import Any

from inspector.metrics.why.chain import best_chain
from inspector.metrics.why.graph import HolderGraph

from ..helpers import Thing


def graph_of(objects: list[Any]) -> HolderGraph:
    """The graph a search would build for ``objects``: each holds the next, the last is
    the object asked about."""
    graph = HolderGraph(objects[-1])
    for dist, (holder, held) in enumerate(zip(objects[-2::-1], objects[::-1], strict=False),
                                          start=1):
        graph.nodes[id(holder)] = holder
        graph.dist[id(holder)] = dist
        graph.child[id(holder)] = id(held)
    return graph


def test_a_module_global_list_item_attribute_chain() -> None:
    target = Thing()
    owner = Thing()
    owner.__dict__["cache"] = [target]
    module_dict = {"OWNER": owner}
    objects = [module_dict, owner, owner.__dict__, owner.__dict__["cache"], target]
    graph = graph_of(objects)
    graph.roots[id(module_dict)] = (4, "module global")
    links, found = best_chain(graph, {}, {id(module_dict): "app.state"}, {}, "thumb", "here")
    assert found
    assert [(link.kind, link.name) for link in links] == [
        ("module global", "app.state.OWNER"),
        ("attribute", "Thing.cache"),
        ("list item", "list[0]"),
        ("object", "Thing 'thumb'"),
    ]
    assert links[-1].site == "here"


def test_a_closure_held_from_native_code_is_a_qt_connection() -> None:
    target = Thing()

    def on_click() -> object:
        return target

    assert on_click.__closure__ is not None
    cell = on_click.__closure__[0]
    graph = graph_of([on_click, on_click.__closure__, cell, target])
    links, found = best_chain(graph, {id(on_click): 1}, {}, {}, "", "")
    assert found
    kinds = [link.kind for link in links]
    assert kinds == ["qt connection", "closure", "object"]  # tuple and cell: one link
    assert links[0].name.startswith("native holder of ")
    assert links[1].name.endswith("on_click captures target")
    assert links[-1].name == "Thing"


def test_without_a_root_the_longest_chain_found_is_not_an_answer() -> None:
    target = Thing()
    holder = types.SimpleNamespace(kept=target)
    graph = graph_of([holder, holder.__dict__, target])
    links, found = best_chain(graph, {}, {}, {}, "", "")
    assert not found
    assert [link.kind for link in links] == ["attribute", "object"]
