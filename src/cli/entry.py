"""The console script: ``resinspect run`` starts without click, everything else is cli.main.

``resinspect run app.py`` must add little to the program's start-up (bench/bench_run.py:
at most 60 ms to its first event-loop turn), and importing click and the command group
costs about 40 ms of that. So the common forms of ``run`` (its options, then the script or
``-m MODULE``) are parsed here, with the standard library only; anything else (``--help``,
a bad option, a missing script) goes to :func:`cli.main.main`, which reports it as every
command does.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``resinspect`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["run"]:
        status = _fast_run(args[1:])
        if status is not None:
            return status
    from cli.main import main as full_main

    return full_main(args)


def _fast_run(args: list[str]) -> int | None:
    """``run`` without click, or None when click should parse (help, errors, odd forms)."""
    dock = False
    name: str | None = None
    module: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--dock":
            dock = True
        elif arg == "--name" and i + 1 < len(args) and args[i + 1].strip():
            i += 1
            name = args[i]
        elif arg.startswith("--name=") and arg[7:].strip():
            name = arg[7:]
        elif arg == "-m" and i + 1 < len(args):
            module, rest = args[i + 1], args[i + 2:]
            break
        elif arg.startswith("-m") and len(arg) > 2:
            module, rest = arg[2:], args[i + 1:]
            break
        elif arg == "--":
            rest = args[i + 1:]
            break
        elif arg.startswith("-"):
            return None  # --help, or not ours: click explains
        else:
            rest = args[i:]
            break
        i += 1
    if module is None and not rest:
        return None
    from inspector.reach import runner

    if module is None and not runner.script_exists(rest[0]):
        return None
    if module is not None and not runner.module_exists(module):
        return None
    return runner.execute(rest, module=module, name=name, dock=dock)
