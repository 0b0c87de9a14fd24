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
import linecache
import logging
import os
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from .metrics.model import MetricsModel
    from .metrics.suspects import SuspectPolicy
    from .resources import InspectedService, IResourceManagementService, ResourceManagementService
    from .resources.shutdown import GracefulSignals
    from .server.server import InspectorServer
    from .ui import InspectorDock

log = logging.getLogger("inspector")

#: Values of ``RESINSPECT`` that turn ``attach()`` off.
_OFF = frozenset({"0", "false", "no", "off"})


class Attachment:
    """What :func:`attach` set up. Parts that are off or failed to start are None.

    Attached before the event loop runs, the model and the server start in the loop's first
    turns, after the application's own first turn; reading ``model``, ``server`` or
    ``dock`` (or calling :meth:`finish`) on the main thread starts them at once instead.

    :meth:`close` stops them all (server first, so no client reads a closing model); it is
    idempotent and also runs at ``QCoreApplication.aboutToQuit``.
    """

    def __init__(self, model: MetricsModel | None = None, server: InspectorServer | None = None,
                 dock: InspectorDock | None = None) -> None:
        self._model = model
        self._server = server
        self._dock = dock
        self._service: ResourceManagementService | None = None
        self._pending: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._signals: GracefulSignals | None = None
        self._app_name = ""

    @property
    def model(self) -> MetricsModel | None:
        """The metrics model (None when off or failed)."""
        self.finish()
        return self._model

    @property
    def service(self) -> ResourceManagementService | None:
        """The resource service the model inspects, when it is a ``ResourceManagementService``
        (the model itself reads only its ``InspectedService`` members)."""
        self.finish()
        return self._service

    @property
    def server(self) -> InspectorServer | None:
        """The socket server (None when not serving or failed)."""
        self.finish()
        return self._server

    @property
    def dock(self) -> InspectorDock | None:
        """The ``inspector.ui.InspectorDock`` on the window, if any."""
        self.finish()
        return self._dock

    def dock_on(self, window: QMainWindow, mode: bool | str = True) -> InspectorDock | None:
        """Add the panel to ``window`` now, fed by this attachment's model; the existing panel
        when there is one. For a window that appears after ``attach()``: ``resinspect run
        --dock`` meets the program's main window only when the program shows it."""
        if self._dock is None and not self._closed:
            self._dock = _dock_on(window, mode, self._app_name)
            if self._dock is not None and self._model is not None:
                with contextlib.suppress(RuntimeError):  # the window is already gone
                    self._dock.set_source(self._model)
        return self._dock

    @property
    def pending(self) -> bool:
        """Whether the model and server are still to start (in the first event-loop turns)."""
        return self._pending is not None

    def finish(self) -> None:
        """Start what is still to start, now (on the main thread only; a no-op elsewhere)."""
        pending = self._pending
        if pending is None or threading.current_thread() is not threading.main_thread():
            return
        self._pending = None
        if not self._closed:
            pending()

    def _defer(self, step: Callable[[], None]) -> None:
        """Run ``step`` two event-loop turns from now: the first turn is the application's."""
        from PySide6.QtCore import QTimer

        self._pending = step
        # A timer started inside a timer's slot never fires in the same pass, so the
        # application's own first zero-timers and paint come before the inspector's work.
        QTimer.singleShot(0, lambda: QTimer.singleShot(0, self.finish))

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
        self._pending = None  # never started: nothing to stop
        if self._server is not None:
            _quietly("closing the inspector server", self._server.close)
        if self._dock is not None:
            _quietly("detaching the inspector dock", self._detach_dock)
        if self._model is not None:
            _quietly("closing the metrics model", self._model.close)
        if self._signals is not None and not self._signals.received:
            # Handed back unless a signal is being handled: it is raised again after the loop.
            _quietly("restoring signal handlers", self._signals.restore)

    def _detach_dock(self) -> None:
        dock = self._dock
        assert dock is not None
        # RuntimeError: Qt already deleted the dock with its window. (Its place is saved
        # when the user changes it, never here: while quitting, it is half torn down.)
        with contextlib.suppress(RuntimeError):
            dock.detach_source()  # stop reading a model that is going away

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
        if self._dock is not None:
            _quietly("retiring the inspector dock", lambda: self._retire_dock(now=now))

    def _retire_dock(self, *, now: bool) -> None:
        assert self._dock is not None
        with contextlib.suppress(RuntimeError):  # Qt already deleted it with its window
            self._dock.retire(now=now)

    def __enter__(self) -> Attachment:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        parts = [name for name in ("model", "server", "dock")
                 if getattr(self, f"_{name}") is not None]
        state = "closed" if self._closed else "pending" if self._pending else "open"
        return f"<Attachment {state}: {', '.join(parts) or 'nothing'}>"


def attach(
    window: QMainWindow | None = None,
    *,
    name: str | None = None,
    service: IResourceManagementService | None = None,
    serve: bool = True,
    dock: bool | Literal["docked", "hidden", "floating"] = True,
    policy: SuspectPolicy | None = None,
    sample_interval_s: float = 1.0,
    hang_threshold_ms: float = 200.0,
    sites: bool = True,
) -> Attachment:
    """Instrument this application: model, socket server, and a dock on ``window``.

    ``window`` is a ``QMainWindow`` to dock the panel on (right area); ``name`` is the app
    name ``hello``, snapshots and ``resinspect ls`` report (default: the script's name);
    ``service`` defaults to the process's shared ``ResourceManagementService``. With
    ``serve=False`` no socket is opened; with ``dock=False`` no panel is added.

    The panel never shrinks the window's central widget: docked, the window grows by the
    panel's width, or the panel floats when the screen has no room for that
    (``inspector.ui.placement``). ``dock=True`` docks it, or restores it as the user left
    it last time; ``"docked"``, ``"hidden"`` (added but not shown: nothing of it is built
    and pyqtgraph is not imported until it is first shown) and ``"floating"`` ask for a
    mode. A checkable action with the shortcut Ctrl+Shift+I (Ctrl+Alt+Shift+I when the
    application has that one) is added to the window to show and hide it.

    The application comes first: called before its event loop runs, ``attach()`` only
    places the (empty) panel, and the model and server start two event-loop turns later,
    the panel's widgets after that (see :class:`Attachment`). ``policy`` sets the leak
    detector's thresholds and ``sample_interval_s`` the history's pace (a short demo wants
    growth found in seconds, not the default twenty). ``sites=False`` stops recording where
    each resource was tracked (it costs about 0.2 µs a track). Stalls of the GUI thread
    longer than ``hang_threshold_ms`` go to the hang log (``resinspect hangs``).

    Never raises: whatever cannot start is logged once and left as None on the handle.
    """
    if os.environ.get("RESINSPECT", "").strip().lower() in _OFF:
        handle = Attachment()
        handle._closed = True
        return handle
    from ._appname import default_app_name

    app_name = name or default_app_name()
    handle = Attachment()
    handle._app_name = app_name
    if window is not None and dock is not False:
        handle._dock = _dock_on(window, dock, app_name)

    def start() -> None:
        _start_parts(handle, service, app_name, serve, policy, sample_interval_s, sites,
                     hang_threshold_ms)

    if _loop_to_come():
        handle._defer(start)
    else:
        start()
    _close_at_quit(handle)
    return handle


def _start_parts(handle: Attachment, service: IResourceManagementService | None, name: str,
                 serve: bool, policy: SuspectPolicy | None, sample_interval_s: float,
                 sites: bool, hang_threshold_ms: float = 200.0) -> None:
    before = _rss()
    try:
        with sources_not_cached():
            model = _start_model(service, name, policy, sample_interval_s,
                                 hang_threshold_ms)
        model.service.store.capture_sites = sites
        handle._service = _ours(model.service)
    except Exception as exc:  # noqa: BLE001 - attach() never raises into the app
        log.warning("resinspect: inspector not attached: %s", _one_line(exc))
        return
    handle._model = model
    if serve:
        with sources_not_cached():
            handle._server = _start_server(model, name)
    from .metrics import own

    own.add("core", _rss() - before)
    _hook_the_exit(handle)
    if handle._dock is not None:
        with contextlib.suppress(RuntimeError):  # the window and its dock are gone
            handle._dock.set_source(model)
    if not model.probe.running:
        _finish_with_app(handle)


def _finish_with_app(handle: Attachment) -> None:
    """``attach()`` before the ``QApplication`` exists: the event-loop probe and the exit
    hooks are installed the moment it does (on its thread, by inspector.reach.hooks),
    instead of freeze detection staying silently off."""
    try:
        from .reach.hooks import when_app_exists

        def finish(app: object) -> None:
            model = handle._model
            if handle._closed or model is None:
                return
            model.probe.start()
            if handle._service is not None:
                handle._service.hook_application()
            _hook_the_exit(handle)

        when_app_exists(finish)
    except Exception as exc:  # noqa: BLE001 - attach() never raises into the app
        log.warning("resinspect: event-loop probe not installed: %s", _one_line(exc))


def _loop_to_come() -> bool:
    """Whether a Qt application exists whose event loop has not started yet, and this is
    its thread: then the inspector's work can wait for the loop's first turns."""
    import sys

    if "PySide6.QtCore" not in sys.modules:
        return False
    from PySide6.QtCore import QCoreApplication, QThread

    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return False
    return QThread.currentThread().loopLevel() == 0


def _rss() -> int:
    """Resident bytes now (Linux; 0 elsewhere, where ``own`` then charges nothing here)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@contextlib.contextmanager
def sources_not_cached() -> Iterator[None]:
    """Keep ``linecache`` from holding the source of the modules the inspector imports.

    PySide6 reads the source of every module imported after it (its ``__feature__`` check
    calls ``inspect.getsource``), and ``linecache`` keeps what was read: 3.6 MiB for the
    inspector's modules and their dependencies, the largest single part of what attaching
    cost. Files read meanwhile are dropped from the cache; tracebacks read them again when
    they need them. Files another thread reads in the same moments are dropped too, which
    costs that thread nothing but a re-read.
    """
    before = set(linecache.cache)
    original = linecache.getlines

    def getlines(filename: str, module_globals: dict[str, object] | None = None) -> list[str]:
        lines = original(filename, module_globals)
        if filename not in before:
            linecache.cache.pop(filename, None)
        return lines

    linecache.getlines = getlines
    try:
        yield
    finally:
        linecache.getlines = original


def _ours(service: InspectedService) -> ResourceManagementService | None:
    """The service as a ``ResourceManagementService`` (whose exit cleanup attach hooks and
    whose store ``resinspect run`` writes to), else None: an embedder's own service keeps
    its own exit path."""
    from .resources import ResourceManagementService

    return service if isinstance(service, ResourceManagementService) else None


def _start_model(service: IResourceManagementService | None, name: str | None,
                 policy: SuspectPolicy | None, sample_interval_s: float,
                 hang_threshold_ms: float = 200.0) -> MetricsModel:
    from .metrics.model import MetricsModel
    from .resources import InspectedService, IResourceManagementService, get_service

    if service is None:
        service = get_service(IResourceManagementService)
    if not isinstance(service, InspectedService):
        raise TypeError("attach() inspects a service with a store (an InspectedService, "
                        f"such as ResourceManagementService); got {type(service).__name__}")
    model = MetricsModel(service, app=name, policy=policy,
                         sample_interval_s=sample_interval_s,
                         hang_threshold_ms=hang_threshold_ms)
    model.start()
    return model


def _start_server(model: MetricsModel, name: str | None) -> InspectorServer | None:
    try:
        from .server.server import InspectorServer

        return InspectorServer(model, app=name).start()
    except Exception as exc:  # noqa: BLE001 - the comment below says why
        # One line, no traceback: a refused runtime directory is a setup matter, not a bug.
        log.warning("resinspect: socket server not started (the dock still works): %s",
                    _one_line(exc))
        return None


def _dock_on(window: QMainWindow, dock: bool | str, app: str) -> InspectorDock | None:
    try:
        with sources_not_cached():
            from .ui.placement import MODES, dock_panel

        mode = None if dock is True else dock
        if mode is not None and mode not in MODES:
            log.warning("resinspect: unknown dock mode %r (docked, hidden or floating): "
                        "docking it", mode)
            mode = "docked"
        return dock_panel(window, None, mode=mode, app=app)
    except Exception as exc:  # noqa: BLE001 - attach() never raises into the app
        log.warning("resinspect: inspector dock not added: %s", _one_line(exc))
        return None


def _close_at_quit(handle: Attachment) -> None:
    # Held strongly: an application may drop the handle while its dock lives on. The exit
    # hooks proper come with the model (_hook_the_exit): importing them loads the resource
    # package, which is work for after the application's first turns.
    atexit.register(handle._at_exit)


def _hook_the_exit(handle: Attachment) -> None:
    try:
        with sources_not_cached():
            from .resources.shutdown import GracefulSignals, after_loop

        # After the loop, not inside aboutToQuit: quit() may come from a signal handler in
        # any interrupted frame (resources/shutdown.py).
        after_loop(handle._at_quit)
        handle._signals = GracefulSignals().install()
    except Exception as exc:  # noqa: BLE001 - atexit still closes the server
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
