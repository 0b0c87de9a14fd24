"""Starting a model's sampling for the dock, and stopping only what the dock started.

A ``SamplingSource`` (a ``MetricsModel``) that nobody started is started when the panel is
first shown, and stopped when the panel lets go of it; one that was already sampling is left
as it is, and a source that cannot sample on its own is never touched.
"""

from __future__ import annotations

import logging

from .source import SamplingSource

log = logging.getLogger("inspector.ui.dock")


class SamplingOwner:
    """Remembers whether the dock started its source's sampling."""

    def __init__(self) -> None:
        self.owns = False

    def ensure(self, source: object) -> str:
        """Start ``source`` if nobody did; return ``""``, or why starting it failed."""
        if self.owns or not isinstance(source, SamplingSource) or source.sampling:
            return ""
        try:
            source.start()
            source.sample()  # a first point now, not one interval later
        # Any source's failure (a bug in it included) is shown on the status line, never
        # raised into the event loop.
        except Exception as exc:  # noqa: BLE001
            return f"could not start sampling: {exc}"
        self.owns = True
        return ""

    def release(self, source: object) -> None:
        """Stop ``source``'s sampling if, and only if, this owner started it."""
        if not self.owns:
            return
        self.owns = False
        if isinstance(source, SamplingSource):
            try:
                source.stop()
            # Called while the panel closes or the app quits: a failing stop is logged with
            # its traceback, never raised into the closing.
            except Exception:
                log.exception("resinspect dock: stopping the source's sampling failed")
