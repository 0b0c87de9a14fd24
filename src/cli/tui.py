"""``resinspect top`` in a terminal: keys to sort, scroll, select and drill down.

The loop only: keys come from :mod:`cli.keys`, what they change is :class:`cli.topstate.
TopState`, and each frame is drawn by :func:`cli.render.interactive.render_tui`, so each is
tested on its own. Snapshots arrive on a reader thread; the main thread waits on stdin with
a short timeout, applies keys, and redraws when a snapshot or a key changed what is shown.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from cli.keys import KeyReader
from cli.render.interactive import render_tui
from cli.topstate import TopState

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from inspector.metrics.snapshot import ResourcePage, Snapshot

#: Rows of a resource page fetched per request.
RESOURCE_PAGE = 200


def run(console: Console, first: Snapshot, snapshots: Iterator[Snapshot],
        fetch: Callable[[str, int, int], ResourcePage] | None) -> None:
    """Show ``snapshots`` until ``q``, Ctrl-C, or the stream ends (its error is raised)."""
    from rich.live import Live

    inbox: queue.Queue[Snapshot | BaseException | None] = queue.Queue()

    def pump() -> None:
        try:
            for snap in snapshots:
                inbox.put(snap)
            inbox.put(None)
        except BaseException as exc:  # handed to the main thread, which raises it
            inbox.put(exc)

    threading.Thread(target=pump, name="resinspect-top-reader", daemon=True).start()
    state = TopState()
    snapshot = first
    page: ResourcePage | None = None
    page_key: tuple[object, ...] | None = None

    def frame() -> RenderableType:
        nonlocal page, page_key
        if state.view == "resources" and fetch is not None:
            key = (state.component, state.resource_offset, snapshot.seq)
            if key != page_key:
                page = fetch(state.component, state.resource_offset, RESOURCE_PAGE)
                page_key = key
        return render_tui(snapshot, state, console.height, console.width, page)

    with KeyReader() as keys, Live(frame(), console=console, screen=True, auto_refresh=False,
                                   redirect_stdout=False, redirect_stderr=False) as live:
        while not state.quit:
            changed = False
            for key in keys.read(0.1):
                state.apply(key)
                changed = True
            while True:
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                snapshot = item
                changed = True
            if changed and not state.quit:
                live.update(frame(), refresh=True)
