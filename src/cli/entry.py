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
    end, dock, name = _options(args)
    target = _target(args[end:])
    if target is None:
        return None
    module, rest = target
    from inspector.reach import runner

    found = runner.script_exists(rest[0]) if module is None else runner.module_exists(module)
    if not found:
        return None
    return runner.execute(rest, module=module, name=name, dock=dock)


def _options(args: list[str]) -> tuple[int, bool, str | None]:
    """Where ``run``'s own options (``--dock``, ``--name N``) end, and their values."""
    dock, name, i = False, None, 0
    while i < len(args):
        arg = args[i]
        if arg == "--dock":
            dock = True
        elif arg == "--name" and i + 1 < len(args) and args[i + 1].strip():
            i += 1
            name = args[i]
        elif arg.startswith("--name=") and arg[7:].strip():
            name = arg[7:]
        else:
            break
        i += 1
    return i, dock, name


def _target(args: list[str]) -> tuple[str | None, list[str]] | None:
    """(module or None, the program's argv) after ``run``'s options, or None for anything
    click should explain (``--help``, an unknown option, nothing to run)."""
    head = args[0] if args else ""
    if head == "-m" and len(args) > 1:
        return args[1], args[2:]
    if head.startswith("-m") and len(head) > 2:
        return head[2:], args[1:]
    if head == "--" and len(args) > 1:
        return None, args[1:]
    if not head or head.startswith("-"):
        return None
    return None, args
