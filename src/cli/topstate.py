"""What the user chose in the interactive ``top``: sort, selection and scroll, the view,
details on or off. Pure state, changed one key at a time, so it is tested without a
terminal.

Keys: ``b`` ``l`` ``n`` ``a`` sort components by bytes, live count, name or age (again:
reverse); ``↑`` ``↓`` (``k`` ``j``) move, ``PgUp`` ``PgDn`` page, ``Home`` ``End`` (``g``
``G``); ``Enter`` lists the selected component's resources, ``Esc`` (or ``←``) goes back;
``d`` shows the leak suspects' full details; ``q`` leaves (so does Ctrl-C).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cli.render.table import natural_key

if TYPE_CHECKING:
    from inspector.metrics.snapshot import ComponentStats, Snapshot

SORTS = {"b": "bytes", "l": "live", "n": "name", "a": "age"}


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


