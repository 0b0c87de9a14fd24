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


class _Inbox:
    """Snapshots from a reader thread, for the loop to take without waiting."""

    def __init__(self, snapshots: Iterator[Snapshot]) -> None:
        self._queue: queue.Queue[Snapshot | BaseException | None] = queue.Queue()
        self._snapshots = snapshots
        self.ended = False
        threading.Thread(target=self._pump, name="resinspect-top-reader", daemon=True).start()

    def _pump(self) -> None:
        try:
            for snap in self._snapshots:
                self._queue.put(snap)
            self._queue.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self._queue.put(exc)

    def newest(self) -> Snapshot | None:
        """The newest snapshot that arrived since the last call (None: none); raises the
        stream's error, and sets :attr:`ended` when the stream ended."""
        newest = None
        while not self.ended:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                raise item
            if item is None:
                self.ended = True
            else:
                newest = item
        return newest


class _Screen:
    """What is on screen: the snapshot, the state, and the resource page it shows (fetched
    again only when the component, the offset or the snapshot changed)."""

    def __init__(self, console: Console, snapshot: Snapshot,
                 fetch: Callable[[str, int, int], ResourcePage] | None) -> None:
        self.console = console
        self.snapshot = snapshot
        self.state = TopState()
        self._fetch = fetch
        self._page: ResourcePage | None = None
        self._page_key: tuple[object, ...] | None = None

    def frame(self) -> RenderableType:
        """The frame for the console's size now."""
        state = self.state
        if state.view == "resources" and self._fetch is not None:
            key = (state.component, state.resource_offset, self.snapshot.seq)
            if key != self._page_key:
                self._page = self._fetch(state.component, state.resource_offset,
                                         RESOURCE_PAGE)
                self._page_key = key
        return render_tui(self.snapshot, state, self.console.height, self.console.width,
                          self._page)


def run(console: Console, first: Snapshot, snapshots: Iterator[Snapshot],
        fetch: Callable[[str, int, int], ResourcePage] | None) -> None:
    """Show ``snapshots`` until ``q``, Ctrl-C, or the stream ends (its error is raised)."""
    from rich.live import Live

    inbox = _Inbox(snapshots)
    screen = _Screen(console, first, fetch)
    state = screen.state
    with KeyReader() as keys, Live(screen.frame(), console=console, screen=True,
                                   auto_refresh=False, redirect_stdout=False,
                                   redirect_stderr=False) as live:
        while not state.quit:
            typed = keys.read(0.1)
            for key in typed:
                state.apply(key)
            newest = inbox.newest()
            if inbox.ended:
                return
            if newest is not None:
                screen.snapshot = newest
            if (typed or newest is not None) and not state.quit:
                live.update(screen.frame(), refresh=True)
