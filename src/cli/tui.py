"""``resinspect top`` in a terminal: keys to sort, scroll, select and drill down.

Pure state (:class:`TopState`) is kept apart from the terminal (:class:`KeyReader`, raw mode
through ``termios`` and ``select`` on stdin, nothing beyond the standard library) and from
drawing (:func:`render_tui`), so each is tested on its own. Snapshots arrive on a reader
thread; the main thread waits on stdin with a short timeout, applies keys, and redraws when
a snapshot or a key changed what is shown.

Keys: ``b`` ``l`` ``n`` ``a`` sort components by bytes, live count, name or age (again:
reverse); ``↑`` ``↓`` (``k`` ``j``) move, ``PgUp`` ``PgDn`` page, ``Home`` ``End`` (``g``
``G``); ``Enter`` lists the selected component's resources, ``Esc`` (or ``←``) goes back;
``d`` shows the leak suspects' full details; ``q`` leaves (so does Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from inspector.metrics.text import clip, safe
from inspector.metrics.units import format_age, format_bytes

if TYPE_CHECKING:
    from rich.console import Console

    from inspector.metrics.snapshot import ComponentStats, ResourcePage, Snapshot

SORTS = {"b": "bytes", "l": "live", "n": "name", "a": "age"}
#: Rows of a resource page fetched per request.
RESOURCE_PAGE = 200

# -- keys ---------------------------------------------------------------------------------

_ESCAPES = {
    "\x1b[A": "up", "\x1b[B": "down", "\x1b[C": "right", "\x1b[D": "left",
    "\x1bOA": "up", "\x1bOB": "down", "\x1bOC": "right", "\x1bOD": "left",
    "\x1b[5~": "pgup", "\x1b[6~": "pgdn", "\x1b[H": "home", "\x1b[F": "end",
    "\x1b[1~": "home", "\x1b[4~": "end", "\x1bOH": "home", "\x1bOF": "end",
}
_SINGLE = {"\r": "enter", "\n": "enter", "\x7f": "back", "\x08": "back", "k": "up",
           "j": "down", "g": "home", "G": "end", " ": "pgdn"}


def parse_keys(data: str) -> list[str]:
    """Split what the terminal sent into key names (``up``, ``enter``, ``b``, ``esc`` …)."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        if data[i] == "\x1b":
            for length in (4, 3):
                name = _ESCAPES.get(data[i:i + length])
                if name:
                    keys.append(name)
                    i += length
                    break
            else:
                keys.append("esc")
                i += 1
            continue
        keys.append(_SINGLE.get(data[i], data[i]))
        i += 1
    return keys


class KeyReader:
    """Stdin in cbreak mode (keys arrive one by one, unechoed; Ctrl-C still interrupts),
    restored on exit."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        import termios
        import tty

        with contextlib.suppress(termios.error):
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        import termios

        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def read(self, timeout: float) -> list[str]:
        """Keys typed within ``timeout`` seconds (none when nothing came)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.fd, 1024)
        if not data:
            raise EOFError("stdin closed")
        return parse_keys(data.decode("utf-8", "replace"))


# -- state --------------------------------------------------------------------------------


def natural_key(text: str) -> tuple[Any, ...]:
    """``Tab#2`` before ``Tab#10``: digit runs compare as numbers."""
    import re

    return tuple(int(part) if part.isdigit() else part.lower()
                 for part in re.split(r"(\d+)", text))


def sort_components(components: list[ComponentStats], sort: str, reverse: bool
                    ) -> list[ComponentStats]:
    """Components by ``sort`` (bytes, live, age: largest first; name: natural order)."""
    if sort == "name":
        out = sorted(components, key=lambda c: natural_key(c.id))
    elif sort == "live":
        out = sorted(components, key=lambda c: (-c.live, -c.bytes, natural_key(c.id)))
    elif sort == "age":
        out = sorted(components, key=lambda c: (-c.age_s, natural_key(c.id)))
    else:
        out = sorted(components, key=lambda c: (-c.bytes, -c.live, natural_key(c.id)))
    return out[::-1] if reverse else out


@dataclass
class TopState:
    """What the user chose: sort, selection and scroll, the view, details on or off."""

    sort: str = "bytes"
    reverse: bool = False
    selected: int = 0
    offset: int = 0
    view: str = "components"  # or "resources"
    details: bool = False
    component: str = ""  # the one whose resources are listed
    resource_offset: int = 0
    rows: int = 10  # component rows that fit on screen
    quit: bool = False
    order: list[str] = field(default_factory=list)  # component ids in shown order

    def apply(self, key: str) -> None:
        """Change the state for one key."""
        if key in ("q", "Q"):
            self.quit = True
        elif key == "d":
            self.details = not self.details
        elif self.view == "resources":
            self._resources_key(key)
        elif key in SORTS:
            sort = SORTS[key]
            self.reverse = not self.reverse if sort == self.sort else False
            self.sort = sort
            self.selected = self.offset = 0
            self.order = []  # a new order starts at its top, not at the old selection
        elif key == "r":
            self.reverse = not self.reverse
            self.selected = self.offset = 0
            self.order = []
        elif key == "enter" and self.order:
            self.view = "resources"
            self.component = self.order[min(self.selected, len(self.order) - 1)]
            self.resource_offset = 0
        else:
            self._move(key)

    def _move(self, key: str) -> None:
        n = len(self.order)
        step = {"up": -1, "down": 1, "pgup": -self.rows, "pgdn": self.rows}.get(key)
        if step is not None:
            self.selected += step
        elif key == "home":
            self.selected = 0
        elif key == "end":
            self.selected = n - 1
        self.clamp()

    def _resources_key(self, key: str) -> None:
        if key in ("esc", "left", "back"):
            self.view = "components"
            return
        step = {"up": -1, "down": 1, "pgup": -self.rows, "pgdn": self.rows}.get(key, 0)
        if key == "home":
            self.resource_offset = 0
        self.resource_offset = max(0, self.resource_offset + step)

    def clamp(self) -> None:
        """Keep the selection on a row and in view."""
        n = len(self.order)
        self.selected = max(0, min(self.selected, n - 1))
        rows = max(1, self.rows)
        if self.selected < self.offset:
            self.offset = self.selected
        elif self.selected >= self.offset + rows:
            self.offset = self.selected - rows + 1
        self.offset = max(0, min(self.offset, max(0, n - rows)))

    def follow(self, snapshot: Snapshot) -> list[ComponentStats]:
        """Sort ``snapshot``'s components; keep the selected component selected."""
        current = self.order[self.selected] if 0 <= self.selected < len(self.order) else None
        comps = sort_components(list(snapshot.components), self.sort, self.reverse)
        self.order = [c.id for c in comps]
        if current is not None and current in self.order:
            self.selected = self.order.index(current)
        self.clamp()
        return comps


# -- drawing ------------------------------------------------------------------------------


def render_tui(snapshot: Snapshot, state: TopState, height: int, width: int,
               page: ResourcePage | None = None) -> RenderableType:
    """One frame for a terminal ``height`` rows high: header, summary, then the components
    (or the selected component's resources), the grouped suspects and a key line."""
    from cli.render import (
        _by_type_line,
        _census_line,
        _qt_objects,
        _summary,
        _title,
        grouped_suspects_table,
        render_blocked_banner,
    )

    parts: list[RenderableType] = [_title(snapshot)]
    if snapshot.blocked:
        parts.append(render_blocked_banner(snapshot))
    parts += [_summary(snapshot), _by_type_line(snapshot)]
    fixed = 8 + (len(snapshot.gui_stack) + 4 if snapshot.blocked else 0)
    suspects = grouped_suspects_table(snapshot, width, full=state.details,
                                      max_rows=None if state.details else 5)
    suspect_lines = 0 if suspects is None else suspects.row_count + 4
    # Under `resinspect run`: the program's threads, timers and windows, a few rows of them.
    reached = snapshot.qt_objects or snapshot.census is not None
    reached_lines = min(5, len(snapshot.qt_objects)) + 5 if reached else 0
    state.rows = max(3, height - fixed - suspect_lines - reached_lines - 4)
    comps = state.follow(snapshot)
    if state.view == "resources":
        parts.append(_resources_table(state, page, width))
    else:
        parts.append(_components_table(comps, state, width))
    if suspects is not None:
        parts.append(suspects)
    if reached:
        parts += [_qt_objects(snapshot, 5), _census_line(snapshot)]
    parts.append(_keys_line(state))
    return Group(*parts)


def _components_table(comps: list[ComponentStats], state: TopState, width: int) -> Table:
    shown = comps[state.offset:state.offset + state.rows]
    arrow = "↑" if state.reverse else "↓"
    first = state.offset + 1 if comps else 0
    title = (f"Components by {state.sort} {arrow}  {first}-{state.offset + len(shown)} "
             f"of {len(comps)}")
    table = Table(title=title, title_justify="left", title_style="bold", box=None,
                  pad_edge=False, show_edge=False, header_style="bold", expand=False)
    id_width = max(12, width - 46)
    table.add_column("Component", no_wrap=True, max_width=id_width)
    table.add_column("Type", no_wrap=True, max_width=14)
    table.add_column("Live", justify="right", no_wrap=True)
    table.add_column("Bytes", justify="right", no_wrap=True)
    table.add_column("Age", justify="right", no_wrap=True)
    table.add_column("State", no_wrap=True)
    for index, c in enumerate(shown, start=state.offset):
        style = "reverse" if index == state.selected else ""
        table.add_row(clip(safe(c.id), id_width), clip(safe(c.type), 14), str(c.live),
                      format_bytes(c.bytes), format_age(c.age_s),
                      Text("alive", style="green") if c.alive else Text("gone", style="red"),
                      style=style)
    return table


def _resources_table(state: TopState, page: ResourcePage | None, width: int) -> Table:
    total = page.total if page is not None else 0
    items = list(page.items) if page is not None else []
    title = (f"Resources of {clip(safe(state.component), max(10, width - 40))}  "
             f"{state.resource_offset + 1 if items else 0}-"
             f"{state.resource_offset + len(items)} of {total}  (Esc: back)")
    table = Table(title=title, title_justify="left", title_style="bold", box=None,
                  pad_edge=False, show_edge=False, header_style="bold")
    name_width = max(12, width - 52)
    table.add_column("Name", no_wrap=True, max_width=name_width)
    table.add_column("Type", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Age", justify="right", no_wrap=True)
    table.add_column("Thread", no_wrap=True, max_width=18)
    table.add_column("Alive", no_wrap=True)
    for entry in items[:state.rows]:
        # The name the application gave, where it gave one; else the id.
        name = getattr(entry, "name", "") or entry.resource_id
        thread = getattr(entry, "thread_name", "") or str(entry.thread_id)
        table.add_row(clip(safe(name), name_width), safe(entry.resource_type),
                      format_bytes(entry.size_bytes), format_age(entry.age_s),
                      clip(safe(thread), 18), "yes" if entry.alive else "no")
    return table


def _keys_line(state: TopState) -> Text:
    if state.view == "resources":
        keys = "↑↓ scroll  Esc back  d details  q quit"
    else:
        keys = "b/l/n/a sort  ↑↓ PgUp PgDn move  Enter resources  d details  q quit"
    return Text(keys, style="dim")


# -- the loop -----------------------------------------------------------------------------


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
