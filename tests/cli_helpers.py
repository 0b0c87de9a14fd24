"""The CLI as a user meets it, for any test folder: ``main`` in CliRunner's isolation, the
one-line error every failure must be, and what a command imports in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from click.testing import CliRunner

if TYPE_CHECKING:
    from cli.reader import Readers


@dataclass
class Outcome:
    """What the user sees: exit status and the two streams."""

    exit_code: int
    stdout: str
    stderr: str


Run = Callable[..., Outcome]


def run_cli(*args: str, env: dict[str, str] | None = None, readers: Readers | None = None
            ) -> Outcome:
    """``run_cli("snapshot", "--pid", "1")``: ``cli.main.main`` in CliRunner's isolation,
    reaching applications through ``readers`` (click's ``ctx.obj``; default: real sockets)."""
    from cli.main import main

    runner = CliRunner()
    with runner.isolation(env=env) as (out, err, _):
        code = main(list(args), readers=readers)
    return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


@dataclass
class CliSeams:
    """What the ``run_cli`` fixture hands the CLI as click's context object: a test (or a
    fixture such as ``fake_reader``) sets ``readers`` to fakes; None is the real thing."""

    readers: Readers | None = None


def assert_one_line_error(outcome: Outcome | subprocess.CompletedProcess[str],
                          contains: str = "", code: int = 1, *,
                          report_on_stdout: bool = False) -> str:
    """Status ``code``, exactly one ``resinspect: ...`` line on stderr, no traceback, and
    nothing on stdout unless the command printed its report before failing (a broken
    budget); returns the line."""
    status = outcome.exit_code if isinstance(outcome, Outcome) else outcome.returncode
    assert status == code, outcome
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("resinspect: "), lines
    assert contains in lines[0], lines[0]
    assert report_on_stdout or outcome.stdout == ""
    assert "Traceback" not in outcome.stderr + outcome.stdout
    return lines[0]


_PROBE = """
import importlib, json, sys
for name in sys.argv[1].split():
    importlib.import_module(name)
from cli.main import main
code = main(sys.argv[2:])
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def modules_after(*args: str, preload: tuple[str, ...] = ()) -> tuple[int, set[str]]:
    """Exit status and ``sys.modules`` after ``resinspect <args>`` in a new interpreter
    (this test process has long since imported everything), with the ``preload`` modules
    imported first and no application to find."""
    from tests.conftest import PYTHON, ROOT, python_env

    env = python_env()
    env["XDG_RUNTIME_DIR"] = "/nonexistent-resinspect-test"
    result = subprocess.run([PYTHON, "-c", _PROBE, " ".join(preload), *args], env=env,
                            capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    lines = result.stderr.splitlines()
    assert lines, result
    report = json.loads(lines[-1])
    return report["code"], set(report["modules"])


def roots(modules: set[str]) -> set[str]:
    """The top-level packages of ``modules``."""
    return {m.partition(".")[0] for m in modules}
