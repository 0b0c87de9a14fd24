"""Run a program as ``python SCRIPT ARGS`` (or ``python -m MODULE ARGS``) would, inspected.

The program gets the same ``sys.argv``, ``sys.path[0]``, ``__main__`` module, standard
streams, signal handlers and exit status; the only difference is the hooks of
:mod:`.hooks`, installed first. When the program's ``QApplication`` exists the inspector
attaches in two zero-delay hops, so the program's own first event-loop turn (the zero timers
it posted before ``exec()``) runs first and the model, socket server and tracker cost it
nothing there. Anything the inspector fails at is logged, never raised into the program.
``RESINSPECT=0`` runs the program with no hook at all.

This module imports only the standard library: the CLI imports it before the program runs.
"""

from __future__ import annotations

import io
import logging
import os
import runpy
import sys
import traceback
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import hooks

if TYPE_CHECKING:
    from inspector.attach import Attachment

    from .tracker import Tracker

log = logging.getLogger("inspector.reach")

_OFF = frozenset({"0", "false", "no", "off"})


class ProgramNotFound(Exception):
    """The script does not exist or cannot be read (``python`` says the same, status 2)."""


class Session:
    """The inspector of one ``run``: installed before the program, attached after its app."""

    def __init__(self, *, name: str | None = None, dock: bool = False) -> None:
        self.name = name
        self.dock = dock
        self.handle: Attachment | None = None
        self.tracker: Tracker | None = None

    def install(self) -> None:
        """Patch Qt as the program imports it and attach when its application exists."""
        hooks.install(observe=True)
        hooks.on_every_app(self._app_created)

    def _app_created(self, app: Any) -> None:
        from PySide6.QtCore import QTimer

        # Two hops: the first runs in the program's first event-loop turn and only posts the
        # second, which comes after everything the program posted before exec().
        QTimer.singleShot(0, lambda: QTimer.singleShot(0, self.complete))

    def complete(self) -> None:
        """Attach now (on the application's thread). Never raises."""
        if self.handle is not None:
            return
        try:
            self._complete()
        except Exception:
            log.warning("resinspect: inspector not attached", exc_info=True)

    def _complete(self) -> None:
        from inspector.attach import sources_not_cached

        # Everything the inspector imports from here on would otherwise leave its source in
        # linecache (PySide6 reads it): 3.3 MiB of the RSS that `run` adds before the panel.
        with sources_not_cached():
            self._attach_and_track()

    def _attach_and_track(self) -> None:
        from inspector.attach import attach
        from inspector.resources.shutdown import after_loop

        from . import suspects
        from .tracker import Tracker

        handle = self.handle = attach(None, name=self.name, dock=False)
        model, service = handle.model, handle.service
        if model is None or service is None:  # off, failed, or an embedder's own service
            return
        tracker = self.tracker = Tracker(service,
                                         on_main_window=self._dock_on if self.dock else None)
        model.extend(
            part=lambda now: {"qt_objects": tracker.qt_objects(now),
                              "census": tracker.census.last},
            suspects=lambda found, now: suspects.merge(found, tracker, model.policy, now))
        tracker.start()
        # After the loop, like every exit step: quit() may come from a signal handler.
        after_loop(tracker.close)

    def _dock_on(self, window: Any) -> None:
        if self.handle is not None:
            self.handle.dock_on(window)


def execute(args: Sequence[str], *, module: str | None, name: str | None, dock: bool) -> int:
    """``resinspect run``: the script ``args[0]`` (or ``module``) with ``args``, inspected
    unless ``RESINSPECT`` says otherwise; the program's exit status."""
    if name is None and module is not None:
        name = module.removesuffix(".__main__")  # not "__main__", the file runpy runs
    session = None if inspection_off() else Session(name=name, dock=dock)
    if module is not None:
        return run_module(module, args, session)
    return run_script(args[0], args[1:], session)


def script_exists(path: str) -> bool:
    """Whether python could open ``path`` as a script."""
    return os.path.exists(path)


def module_exists(module: str) -> bool:
    """Whether ``python -m module`` would find it."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def inspection_off() -> bool:
    """Whether ``RESINSPECT`` turns the inspector off."""
    return os.environ.get("RESINSPECT", "").strip().lower() in _OFF


def run_script(path: str, args: Sequence[str], session: Session | None) -> int:
    """Run ``path`` as ``python path args`` would; return the exit status."""
    if not script_exists(path):
        raise ProgramNotFound(f"can't open file {os.path.abspath(path)!r}: "
                              "[Errno 2] No such file or directory")
    sys.argv = [path, *args]
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    if os.path.isdir(path) or (not path.endswith(".py") and _is_zip(path)):
        return _run(lambda: runpy.run_path(path, run_name="__main__"), session)
    return _run(lambda: _exec_main(os.path.abspath(path)), session)


def _is_zip(path: str) -> bool:
    """A zip application (``python app.pyz``); zipfile is imported only to ask."""
    import zipfile

    return zipfile.is_zipfile(path)


def _exec_main(path: str) -> None:
    """Execute a script file as python's ``__main__``: argv untouched, ``__file__`` absolute."""
    import builtins
    import importlib.machinery
    import types

    with io.open_code(path) as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__cached__ = None  # type: ignore[attr-defined]
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def run_module(module: str, args: Sequence[str], session: Session | None) -> int:
    """Run ``module`` as ``python -m module args`` would; return the exit status."""
    if not module_exists(module):
        raise ProgramNotFound(f"No module named {module}")
    sys.argv = ["-m", *args]  # runpy puts the module's file in argv[0], as python does
    sys.path[0] = os.getcwd()
    return _run(lambda: runpy.run_module(module, run_name="__main__", alter_sys=True), session)


def _run(body: Any, session: Session | None) -> int:
    if session is not None:
        try:
            session.install()
        except Exception:
            log.warning("resinspect: hooks not installed; running uninspected", exc_info=True)
    try:
        body()
    except SystemExit as exc:
        return _exit_status(exc.code)
    except BaseException as exc:  # noqa: BLE001 - what python prints for an uncaught exception
        _print_uncaught(exc)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    finally:
        _reopen_closed_stdio()
    return 0


def _reopen_closed_stdio() -> None:
    """A program may close sys.stdout (json.tool does); python's exit copes, and so must the
    CLI's own last flush."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or stream.closed:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 - lives until exit


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if code >= 0 else code % 256
    sys.stderr.write(f"{code}\n")  # sys.exit("message"): python prints it, status 1
    return 1


def _print_uncaught(exc: BaseException) -> None:
    tb = _program_frames(exc.__traceback__)
    exc.__traceback__ = tb  # the hook prints the exception's own traceback
    try:
        sys.excepthook(type(exc), exc, tb)
    except Exception:  # noqa: BLE001 - a broken excepthook still prints
        traceback.print_exception(type(exc), exc, tb)


def _program_frames(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the program's first frame on (runpy and this module dropped)."""
    skipped = (runpy.__file__, __file__, "<frozen runpy>")
    while tb is not None and tb.tb_frame.f_code.co_filename in skipped:
        tb = tb.tb_next
    return tb
