"""attach(): one call instruments an app, never raises into it, and RESINSPECT=0 turns it off."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from inspector.attach import Attachment, attach
from inspector.resources import ResourceManagementService
from inspector.server.client import InspectorClient
from tests.conftest import python_env


def test_resinspect_0_is_a_no_op(service: ResourceManagementService, runtime_dir: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESINSPECT", "0")
    handle = attach(QMainWindow(), service=service, name="off")
    assert isinstance(handle, Attachment)
    assert (handle.model, handle.server, handle.dock) == (None, None, None)
    handle.close()
    handle.close()
    assert not (runtime_dir / "resinspect").exists()
    assert service._listeners == []  # nothing hooked into the service either


def test_attach_serves_and_close_removes_the_socket(service: ResourceManagementService,
                                                    runtime_dir: Path) -> None:
    handle = attach(service=service, name="my-app")
    try:
        assert handle.model is not None
        assert handle.server is not None
        assert handle.dock is None  # no window given
        path = handle.server.path
        with InspectorClient(path) as client:
            assert client.hello_info["app"] == "my-app"
            assert client.snapshot().app == "my-app"
    finally:
        handle.close()
    assert not path.exists()
    assert not handle.server.sidecar_path.exists()
    handle.close()  # idempotent


def test_serve_false_opens_no_socket(service: ResourceManagementService,
                                     runtime_dir: Path) -> None:
    with attach(service=service, serve=False) as handle:
        assert handle.model is not None
        assert handle.server is None
        assert not (runtime_dir / "resinspect").exists()


def test_refused_runtime_dir_logs_one_warning_and_carries_on(
        service: ResourceManagementService, runtime_dir: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    unsafe = runtime_dir / "resinspect"
    unsafe.mkdir()
    unsafe.chmod(0o755)
    caplog.set_level(logging.WARNING)
    with attach(service=service, name="still-works") as handle:
        assert handle.server is None
        assert handle.model is not None
        assert handle.model.snapshot().app == "still-works"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    message = warnings[0].getMessage()
    assert str(unsafe) in message
    assert "\n" not in message
    assert warnings[0].exc_info is None  # a setup matter, not a traceback


def test_a_bad_service_does_not_raise_either(caplog: pytest.LogCaptureFixture,
                                             runtime_dir: Path) -> None:
    caplog.set_level(logging.WARNING)
    handle = attach(service=object(), name="x")  # type: ignore[arg-type]
    assert (handle.model, handle.server) == (None, None)
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


def test_dock_on_the_window(qtbot: object, service: ResourceManagementService,
                            runtime_dir: Path) -> None:
    window = QMainWindow()
    with attach(window, service=service, serve=False) as handle:
        assert handle.dock is not None
        assert window.dockWidgetArea(handle.dock) == Qt.DockWidgetArea.RightDockWidgetArea
    with attach(window, service=service, serve=False, dock=False) as handle:
        assert handle.dock is None
    window.deleteLater()


def test_the_inspector_tracks_nothing_of_its_own(service: ResourceManagementService,
                                                 runtime_dir: Path) -> None:
    window = QMainWindow()
    with attach(window, service=service) as handle:
        assert handle.server is not None
        with InspectorClient(handle.server.path) as client:
            client.snapshot()
            client.resources()
            client.history()
            client.stacks()
        stats = service.get_statistics()
        assert stats["components"] == 0
        assert stats["created_total"] == 0
    window.deleteLater()


FROZEN_APP = textwrap.dedent("""
    import os, sys, time
    from PySide6.QtCore import QCoreApplication, QTimer
    from inspector.attach import attach
    from inspector.resources import ResourceType, get_service, IResourceManagementService

    app = QCoreApplication([])
    handle = attach(name="frozen-app")
    svc = get_service(IResourceManagementService)
    class Owner: pass
    class Blob: pass
    owner, blob = Owner(), Blob()
    svc.register_component(owner, "owner")
    svc.track_resource(owner, ResourceType.CACHE, blob, size_bytes=123)
    path = str(handle.server.path)
    print(path, flush=True)

    def freeze_gui_thread():
        time.sleep(float(sys.argv[1]))

    QTimer.singleShot(300, freeze_gui_thread)
    QTimer.singleShot(400, app.quit)  # runs once the freeze is over
    app.exec()
    print("socket-after-quit", os.path.exists(path), flush=True)
""")


def test_a_frozen_gui_thread_still_answers_and_says_where(runtime_dir: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", FROZEN_APP, "2.0"], env=python_env(runtime_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        if not first:  # the app died before serving: show why
            proc.kill()
            pytest.fail(f"the app did not start: {proc.communicate()[1][-2000:]}")
        path = Path(first)
        with InspectorClient(path) as client:
            deadline = time.monotonic() + 10
            snap = client.snapshot()
            while not snap.event_loop_blocked and time.monotonic() < deadline:
                time.sleep(0.05)
                snap = client.snapshot()
            assert snap.event_loop_blocked, snap
            assert snap.live_resources == 1
            assert snap.tracked_bytes == 123
            assert any(f.startswith("freeze_gui_thread (") for f in snap.gui_stack[-3:])
            main = next(t for t in client.stacks()["threads"] if t["main"])
            assert any(f.startswith("freeze_gui_thread (") for f in main["stack"][-3:])
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "socket-after-quit False" in out  # closed at aboutToQuit, not only at exit


def test_resinspect_0_in_a_real_app_opens_nothing(runtime_dir: Path) -> None:
    code = ("from PySide6.QtCore import QCoreApplication\n"
            "from inspector.attach import attach\n"
            "app = QCoreApplication([])\n"
            "h = attach()\n"
            "print(h.model, h.server, h.dock)\n")
    env = python_env(runtime_dir) | {"RESINSPECT": "0"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "None None None"
    assert not (runtime_dir / "resinspect").exists()
    assert os.listdir(runtime_dir) == []


def test_importing_attach_loads_no_qt() -> None:
    code = ("import sys, inspector.attach\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph')))\n"
            "sys.exit(print(bad) or (1 if bad else 0))\n")
    result = subprocess.run([sys.executable, "-c", code], env=python_env(),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_from_inspector_import_attach_gives_the_function() -> None:
    code = ("from inspector import attach\n"
            "assert callable(attach) and attach.__name__ == 'attach', attach\n"
            "import inspector.attach\n"
            "from inspector import attach as again\n"
            "assert again is attach, again\n")
    result = subprocess.run([sys.executable, "-c", code], env=python_env(),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_policy_and_sample_interval_reach_the_model(service: ResourceManagementService) -> None:
    from inspector.metrics.suspects import SuspectPolicy

    policy = SuspectPolicy(retained_after_s=0.1, growth_window_s=0.5, growth_windows=2)
    handle = attach(service=service, serve=False, dock=False, policy=policy,
                    sample_interval_s=0.05)
    try:
        assert handle.model is not None
        assert handle.model.policy is policy
        deadline = time.monotonic() + 5
        while len(handle.model.history().t) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(handle.model.history().t) >= 3  # sampled at 20 Hz, not once a second
    finally:
        handle.close()


def test_attach_before_the_event_loop_starts_its_parts_in_the_first_turns(
        qtbot: QtBot, service: ResourceManagementService) -> None:
    window = QMainWindow()
    window.resize(800, 600)
    handle = attach(window, service=service, serve=False, dock="hidden")
    try:
        assert handle.pending  # nothing started yet: the application's turn comes first
        assert handle._model is None
        qtbot.waitUntil(lambda: not handle.pending, timeout=5000)
        assert handle.model is not None
        assert handle.model.sampling
        assert handle.dock is not None
        assert handle.dock.source is handle.model
        assert not handle.dock.built  # hidden: nothing of the panel built
    finally:
        handle.close()
        window.deleteLater()
