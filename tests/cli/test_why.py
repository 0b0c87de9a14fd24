"""``resinspect why`` end to end: a real leaky PySide6 app and the real command."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.apps.harness import App, resinspect
from tests.cli_helpers import assert_one_line_error
from tests.conftest import APPS

LEAKY = APPS / "leaky_tab_app.py"


def _line_of(text: str) -> int:
    lines = LEAKY.read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_why_names_the_signal_the_lambda_and_the_tab(start_app: Callable[..., App]) -> None:
    app = start_app("--seconds", "60", script=LEAKY)
    leaked = app.expect("LEAKED ", timeout=15).split()[1]
    kept = app.expect("LEAKED_GLOBAL ", timeout=15).split()[1]
    runtime = app.socket.parent.parent

    out = resinspect(runtime, "why", leaked, "--pid", str(app.pid), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["resource_id"] == leaked
    assert result["complete"] is True
    root, *_, target = result["chain"]
    assert root["kind"] == "qt connection"
    assert "theme_changed" in root["name"]
    lambda_line = _line_of("SETTINGS.theme_changed.connect(lambda")
    assert root["site"] == f"open_tab.<locals>.<lambda> ({LEAKY}:{lambda_line})"
    assert any(link["kind"] == "closure" and link["name"].endswith("captures tab")
               for link in result["chain"])
    assert target["kind"] == "object"
    assert target["name"] == "ResultsTab 'results'"
    assert target["site"].startswith(f"open_tab ({LEAKY}:")

    out = resinspect(runtime, "why", kept, "--pid", str(app.pid), "--json")
    chain = json.loads(out.stdout)["chain"]
    assert chain[0] == {"kind": "module global", "name": "__main__._SEEN"}
    assert chain[1]["kind"] == "list item"
    assert chain[-1]["name"] == "Thumbnail"

    text = resinspect(runtime, "why", leaked, "--pid", str(app.pid))
    assert text.returncode == 0, text.stderr
    assert "theme_changed" in text.stdout
    assert "ResultsTab" in text.stdout

    gone = resinspect(runtime, "why", "widget-999999", "--pid", str(app.pid))
    assert_one_line_error(gone, "no live resource 'widget-999999'")
