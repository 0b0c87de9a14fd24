"""What the dock reads: any ``MetricsSource`` (declared once, in ``inspector.server.source``).

The in-process ``inspector.metrics.MetricsModel`` is one such source; a remote source over
the application's socket (``resinspect view``) and a recording player are others
(``inspector.sources``). The dock calls them on the GUI thread once per refresh, so they must
return quickly: a remote source answers from the latest values it was pushed.
"""

from __future__ import annotations

from inspector.server.source import (
    ClearableSource,
    ExplainingSource,
    FailingSource,
    MetricsSource,
    SamplingSource,
)

__all__ = ["ClearableSource", "ExplainingSource", "FailingSource", "MetricsSource",
           "SamplingSource"]
