"""``resinspect ls``'s table (cli/render/ls.py): whole socket paths, by pid."""

from __future__ import annotations

from pathlib import Path

from cli.render.ls import render_ls
from tests.cli.conftest import FakeApp, lines_with, text_of


def test_render_ls_lists_pid_app_uptime_and_whole_socket() -> None:
    sock = Path("/run/user/1000/resinspect/12345.sock")
    apps = [FakeApp(12345, "photo-viewer", sock, started_at=1000.0),
            FakeApp(99, "tracked-app", Path("/tmp/r/resinspect/99.sock"), started_at=990.0)]
    out = text_of(render_ls(apps, now=1185.0))
    (row,) = lines_with(out, "photo-viewer")
    assert row.split() == ["12345", "photo-viewer", "3m05s", str(sock)]
    assert out.index("tracked-app") < out.index("photo-viewer")  # by pid


def test_render_ls_with_a_broken_sidecar() -> None:
    out = text_of(render_ls([FakeApp(7, "", Path("/r/resinspect/7.sock"))], now=1000.0))
    (row,) = lines_with(out, "7.sock")
    assert row.split() == ["7", "?", "?", "/r/resinspect/7.sock"]


