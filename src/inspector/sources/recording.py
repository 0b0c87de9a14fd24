"""A recording played back as a metrics source (``resinspect view REC``), paced by the one
replay rule of :class:`inspector.fleet.recording.Playback` (the same as ``top --replay``: the
recorded pace, with long pauses cut short)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..errors import ResinspectError
from ..fleet.recording import Playback
from ..metrics.snapshot import History, ResourcePage, Snapshot
from .feed import HistoryFeed


class RecordingSource:
    """A recording (a list of snapshots) played back at its recorded pace.

    ``speed`` scales time (2.0 plays twice as fast); a pause in the recording longer than a
    few typical intervals is played as a short one. Once played through it stays on the last
    frame. Recordings hold no resource listings, so ``resources()`` is empty.
    """

    def __init__(self, snapshots: Sequence[Snapshot], *, speed: float = 1.0,
                 clock: Callable[[], float] | None = None) -> None:
        if not snapshots:
            raise ResinspectError("the recording holds no snapshots")
        self._frames = list(snapshots)
        self._playback = Playback(self._frames, speed=max(speed, 1e-6))
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
        due = self._playback.frames_due(self._clock() - self._started)
        while self._shown < due:
            self._history.add(self._frames[self._shown])
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
