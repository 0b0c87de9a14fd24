"""A recording played back at its recorded pace, as a metrics source (``resinspect view REC``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..errors import ResinspectError
from ..metrics.snapshot import History, ResourcePage, Snapshot
from .feed import HistoryFeed


class RecordingSource:
    """A recording (a list of snapshots) played back at its recorded pace.

    ``speed`` scales time (2.0 plays twice as fast). Once played through it stays on the
    last frame. Recordings hold no resource listings, so ``resources()`` is empty.
    """

    def __init__(self, snapshots: Sequence[Snapshot], *, speed: float = 1.0,
                 clock: Callable[[], float] | None = None) -> None:
        if not snapshots:
            raise ResinspectError("the recording holds no snapshots")
        self._frames = list(snapshots)
        self._speed = max(speed, 1e-6)
        self._clock = clock or time.monotonic
        self._started = self._clock()
        self._shown = 0
        self._history = HistoryFeed(max(600, len(self._frames)))
        self._advance()

    @property
    def finished(self) -> bool:
        """Whether the last frame is showing."""
        return self._shown >= len(self._frames)

    def _advance(self) -> Snapshot:
        start = self._frames[0].timestamp
        elapsed = (self._clock() - self._started) * self._speed
        while self._shown < len(self._frames) and (
                self._shown == 0 or self._frames[self._shown].timestamp - start <= elapsed):
            frame = self._frames[self._shown]
            self._history.add(frame)
            self._shown += 1
        return self._frames[self._shown - 1]

    def snapshot(self) -> Snapshot:
        """The frame due now."""
        return self._advance()

    def history(self) -> History:
        """The frames played so far."""
        self._advance()
        return self._history.to_history()

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        """Empty: a recording holds snapshots, not resource listings."""
        return ResourcePage(total=0, offset=offset, items=[])

    def close(self) -> None:
        """Nothing to release."""
