"""The demo's inspector: the same three parts ``inspector.attach()`` sets up, tuned to show.

``attach()`` builds its model with the default leak-suspect thresholds, which suit a real
application (growth must last four windows of 5 s before it is reported). The demo exists
so that a newcomer sees each diagnosis within seconds of planting it, so it builds the same
parts (model, socket server, dock) itself with :data:`DEMO_POLICY` and a faster sampler.
Like ``attach()``, it never lets a part that cannot start stop the demo.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from inspector.metrics.model import MetricsModel
from inspector.metrics.suspects import SuspectPolicy
from inspector.resources import IResourceManagementService, ResourceManagementService
from inspector.server.server import InspectorServer
from inspector.ui import InspectorDock

log = logging.getLogger("inspector.demo")

#: The name ``resinspect ls`` and snapshots report for the demo.
APP_NAME = "resinspect-demo"

#: Thresholds that show each planted defect within a few seconds.
DEMO_POLICY = SuspectPolicy(retained_after_s=2.0, orphan_grace_s=1.0, growth_window_s=0.5,
                            growth_windows=4)
#: Seconds between samples: the growth windows close at samples, so at least as often.
DEMO_SAMPLE_INTERVAL_S = 0.5
#: Width of the docked panel.
DOCK_WIDTH = 640


@dataclass
class Instrumentation:
    """The demo's model, server (None if it could not start) and dock (None without a
    window)."""

    model: MetricsModel
    server: InspectorServer | None = None
    dock: InspectorDock | None = None

    def close(self) -> None:
        """Stop serving, detach the dock, stop the model (safe to call twice)."""
        if self.server is not None:
            self.server.close()
        if self.dock is not None:
            with contextlib.suppress(RuntimeError):  # already deleted with its window
                self.dock.set_source(None)
        self.model.close()


def instrument(
    service: IResourceManagementService,
    window: QMainWindow | None = None,
    *,
    name: str = APP_NAME,
    policy: SuspectPolicy = DEMO_POLICY,
    serve: bool = True,
) -> Instrumentation:
    """Build and start the model on ``service``; serve it; dock the panel on ``window``."""
    if not isinstance(service, ResourceManagementService):
        raise TypeError(f"the demo inspects a ResourceManagementService, not {service!r}")
    model = MetricsModel(service, app=name, policy=policy,
                         sample_interval_s=DEMO_SAMPLE_INTERVAL_S)
    model.start()
    inst = Instrumentation(model)
    if serve:
        try:
            inst.server = InspectorServer(model, app=name).start()
        # the demo still runs; only `resinspect top` can't see it
        except Exception as exc:  # noqa: BLE001
            log.warning("resinspect demo: socket server not started: %s", exc)
    if window is not None:
        inst.dock = InspectorDock(model, window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, inst.dock)
        window.resizeDocks([inst.dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
    return inst
