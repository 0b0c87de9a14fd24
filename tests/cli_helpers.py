"""The CLI as a user meets it, for any test folder: ``main`` in CliRunner's isolation, and
the one-line error every failure must be."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from click.testing import CliRunner


@dataclass
class Outcome:
    """What the user sees: exit status and the two streams."""

    exit_code: int
    stdout: str
    stderr: str


Run = Callable[..., Outcome]


def run_cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """``run_cli("snapshot", "--pid", "1")``: ``cli.main.main`` in CliRunner's isolation."""
    from cli.main import main

    runner = CliRunner()
    with runner.isolation(env=env) as (out, err, _):
        code = main(list(args))
    return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


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
