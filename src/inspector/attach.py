"""``attach()``: instrument an application in one call (docs/architecture.md, "attach.py and
sources.py").

It builds the metrics model on the shared resource service, starts the socket server and,
given a main window, docks the panel on it. It never raises into the application: a part
that cannot start is logged once as a warning and left out, and the rest still works.
``RESINSPECT=0`` in the environment makes it a no-op.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from .metrics.model import MetricsModel
    from .metrics.suspects import SuspectPolicy
    from .resources import IResourceManagementService
    from .resources.shutdown import GracefulSignals
    from .server.server import InspectorServer
    from .ui import InspectorDock

log = logging.getLogger("inspector")

#: Values of ``RESINSPECT`` that turn ``attach()`` off.
_OFF = frozenset({"0", "false", "no", "off"})


class Attachment:
    """What :func:`attach` set up. Parts that are off or failed to start are None.

    :meth:`close` stops them all (server first, so no client reads a closing model); it is
    idempotent and also runs at ``QCoreApplication.aboutToQuit``.
    """

    def __init__(self, model: MetricsModel | None = None, server: InspectorServer | None = None,
                 dock: InspectorDock | None = None) -> None:
        self.model = model
        self.server = server
        #: The ``inspector.ui.InspectorDock`` docked on the window, if any.
        self.dock = dock
        self._lock = threading.Lock()
        self._closed = False
        self._signals: GracefulSignals | None = None

    @property
    def active(self) -> bool:
        """Whether anything was set up and is not closed yet."""
        return not self._closed and self.model is not None

    def close(self) -> None:
        """Stop the server, detach the dock and stop the model; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.server is not None:
            _quietly("closing the inspector server", self.server.close)
        if self.dock is not None:
            _quietly("detaching the inspector dock", self._detach_dock)
        if self.model is not None:
            _quietly("closing the metrics model", self.model.close)
        if self._signals is not None and not self._signals.received:
            # Handed back unless a signal is being handled: it is raised again after the loop.
            _quietly("restoring signal handlers", self._signals.restore)

    def _detach_dock(self) -> None:
        assert self.dock is not None
        # RuntimeError: Qt already deleted the dock with its window.
        with contextlib.suppress(RuntimeError):
            self.dock.detach_source()  # stop reading a model that is going away

    def _at_quit(self) -> None:
        """``aboutToQuit``: close, and have the dock's plots deleted when the loop ends."""
        self._retire(now=False)

    def _at_exit(self) -> None:
        """Interpreter exit, reached also without ``aboutToQuit`` (``sys.exit()`` inside a
        slot ends the process from within the event loop): close, and delete the plots at
        once, while Python can still run their destructors' overrides."""
        self._retire(now=True)

    def _retire(self, *, now: bool) -> None:
        self.close()
        if self.dock is not None:
            _quietly("retiring the inspector dock", lambda: self._retire_dock(now=now))

    def _retire_dock(self, *, now: bool) -> None:
        assert self.dock is not None
        with contextlib.suppress(RuntimeError):  # Qt already deleted it with its window
            self.dock.retire(now=now)

    def __enter__(self) -> Attachment:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        parts = [name for name in ("model", "server", "dock") if getattr(self, name) is not None]
        state = "closed" if self._closed else "open"
        return f"<Attachment {state}: {', '.join(parts) or 'nothing'}>"


def attach(
    window: QMainWindow | None = None,
    *,
    name: str | None = None,
    service: IResourceManagementService | None = None,
    serve: bool = True,
    dock: bool = True,
    policy: SuspectPolicy | None = None,
    sample_interval_s: float = 1.0,
    hang_threshold_ms: float = 200.0,
    sites: bool = True,
) -> Attachment:
    """Instrument this application: model, socket server, and a dock on ``window``.

    ``window`` is a ``QMainWindow`` to dock the panel on (right area); ``name`` is the app
    name ``hello``, snapshots and ``resinspect ls`` report (default: the script's name);
    ``service`` defaults to the process's shared ``ResourceManagementService``. With
    ``serve=False`` no socket is opened; with ``dock=False`` no panel is built. ``policy``
    sets the leak detector's thresholds and ``sample_interval_s`` the history's pace (a
    short demo wants growth found in seconds, not the default twenty). ``sites=False`` stops
    recording where each resource was tracked (it costs about 0.2 µs a track). Stalls of the
    GUI thread longer than ``hang_threshold_ms`` go to the hang log (``resinspect hangs``).

    Never raises: whatever cannot start is logged once and left as None on the handle.
    """
    if os.environ.get("RESINSPECT", "").strip().lower() in _OFF:
        handle = Attachment()
        handle._closed = True
        return handle
    try:
        model = _start_model(service, name, policy, sample_interval_s, hang_threshold_ms)
        model.service.store.capture_sites = sites
    except Exception as exc:
        log.warning("resinspect: inspector not attached: %s", _one_line(exc))
        return Attachment()
    handle = Attachment(model)
    if serve:
        handle.server = _start_server(model, name)
    if window is not None and dock:
        handle.dock = _dock_on(window, model)
    _close_at_quit(handle)
    return handle


def _start_model(service: IResourceManagementService | None, name: str | None,
                 policy: SuspectPolicy | None, sample_interval_s: float,
                 hang_threshold_ms: float = 200.0) -> MetricsModel:
    from .metrics.model import MetricsModel
    from .resources import IResourceManagementService, get_service

    if service is None:
        service = get_service(IResourceManagementService)
    model = MetricsModel(service, app=name, policy=policy,  # type: ignore[arg-type]
                         sample_interval_s=sample_interval_s,
                         hang_threshold_ms=hang_threshold_ms)
    model.start()
    return model


def _start_server(model: MetricsModel, name: str | None) -> InspectorServer | None:
    try:
        from .server.server import InspectorServer

        return InspectorServer(model, app=name).start()
    except Exception as exc:
        # One line, no traceback: a refused runtime directory is a setup matter, not a bug.
        log.warning("resinspect: socket server not started (the dock still works): %s",
                    _one_line(exc))
        return None


def _dock_on(window: QMainWindow, model: MetricsModel) -> InspectorDock | None:
    try:
        from PySide6.QtCore import Qt

        from .ui import InspectorDock

        panel = InspectorDock(model, window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
        return panel
    except Exception as exc:
        log.warning("resinspect: inspector dock not added: %s", _one_line(exc))
        return None


def _close_at_quit(handle: Attachment) -> None:
    # Held strongly: an application may drop the handle while its dock lives on.
    atexit.register(handle._at_exit)
    try:
        from .resources.shutdown import GracefulSignals, after_loop

        # After the loop, not inside aboutToQuit: quit() may come from a signal handler in
        # any interrupted frame (resources/shutdown.py).
        after_loop(handle._at_quit)
        handle._signals = GracefulSignals().install()
    except Exception as exc:  # pragma: no cover - atexit still closes the server
        log.debug("resinspect: not hooked to the application's exit: %s", exc)


def _quietly(what: str, step: Callable[[], object]) -> None:
    try:
        step()
    except Exception:
        log.exception("resinspect: %s failed", what)


def _one_line(exc: BaseException) -> str:
    from .errors import ResinspectError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, ResinspectError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
