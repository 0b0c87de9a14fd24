"""Why is it still alive, as the pytest plugin says it: one line of text a link.

The search is :func:`inspector.metrics.why.explain`, the one engine ``resinspect why`` and
the dock use too (breadth first up the heap to a root, frozen heaps included, native holders
by reference count, Qt connections and parents named). This module only turns its links into
the plugin's failure text, root first: ``module global app.cache._SEEN``, ``list[3]``,
``MainWindow.tabs``, ``<lambda> (app/tabs.py:42), held from native code (Qt signal
changed)``.

It runs once a test has failed on a leak, on the test's thread (frames of this package's
callers are counted as holders, never as answers; a running test's own locals are an
answer ranked after other threads' frames, never for the object itself), within ``budget_s``.
"""

from __future__ import annotations

from ..metrics.snapshot import WhyLink
from ..metrics.why import describe_object, explain

#: How a root held from native code reads; the kind of holder follows in brackets.
NATIVE = "held from native code"


def reference_chain(obj: object, *, budget_s: float = 2.0) -> list[str] | None:
    """The links from a root to ``obj``, root first and ``obj`` last, or None when no root
    was reached (garbage in a cycle, or out of time).

    The caller's locals may hold ``obj``: they are counted, not taken for native code.
    """
    box = [obj]
    label = describe_object(obj)
    del obj  # the box is the one reference of ours the search starts from
    result = explain(box, "", "", "", budget_s=budget_s)
    if not result.complete:
        return None
    return [*map(link_text, result.chain[:-1]), label]


def link_text(link: WhyLink) -> str:
    """One link of a ``why`` chain as one line of the plugin's text."""
    kind, name, site = link.kind, link.name, link.site
    if kind == "qt connection":  # name: "signal S -> fn" or "native holder of fn"
        signal = name.partition(" -> ")[0].removeprefix("signal ") \
            if name.startswith("signal ") else ""
        how = f"Qt signal {signal}" if signal else "a Qt signal connection"
        return f"{site or name}, {NATIVE} ({how})"
    if kind == "qt parent":  # name: "child of Parent 'name'"
        return f"{name}, {NATIVE} (its Qt parent)"
    if kind == "native":
        return f"{name}, {NATIVE}"
    if kind == "thread frame":
        return f"{name} of {site}" if site and site != name else site or name
    if kind == "dict value":  # name: "['key']"
        return f"dict{name}"
    if kind == "function":  # name: "fn" or "fn default argument"; site: "fn (file:line)"
        return f"{site}{name.removeprefix(site.partition(' (')[0])}" if site else name
    if kind in ("bound method", "partial"):
        return f"{kind} {site or name}"
    if kind in ("module global", "class attribute", "dict key", "set item"):
        return f"{kind} {name}"
    return name  # attribute "Tab.controller", "list[3]", closure "fn captures x", reference
