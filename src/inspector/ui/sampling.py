"""Starting a model's sampling for the dock, and stopping only what the dock started.

A ``SamplingSource`` (a ``MetricsModel``: ``sampling``, ``start``, ``stop``, ``sample``) that nobody
started is started when the panel is first shown, and stopped when the panel lets go of it;
one that was already sampling is left as it is.
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
        # any source's failure is shown on the status line, never raised into the app
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
            except Exception:
                log.exception("resinspect dock: stopping the source's sampling failed")
