"""``resinspect run``: an unmodified PySide6 program, run as ``python SCRIPT ARGS`` would,
with the inspector attached as soon as its ``QApplication`` exists.

A thin layer over :mod:`inspector.reach.runner`, which imports only the standard library:
Qt is imported by the program itself, and patched as it is. The console script
(:mod:`cli.entry`) runs the common forms without click, for start-up time; this command is
what parses the rest (``--help``, bad options, a missing script).
"""

from __future__ import annotations

import click


class _RunCommand(click.Command):
    """``-m MODULE`` ends the options, as in python: what follows is the module's."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for index, arg in enumerate(args):
            if arg == "--" or not arg.startswith("-"):
                break
            if arg == "-m" and index + 1 < len(args):
                args = [*args[:index], "-m", args[index + 1], "--", *args[index + 2:]]
                break
            if arg.startswith("-m") and len(arg) > 2:
                args = [*args[:index], "-m", arg[2:], "--", *args[index + 1:]]
                break
        return super().parse_args(ctx, args)


# Options end at SCRIPT: what follows it is the program's, whatever it looks like.
@click.command(cls=_RunCommand, context_settings={"allow_interspersed_args": False})
@click.option("--dock", is_flag=True,
              help="Dock the inspector panel on the program's first main window.")
@click.option("--name", default=None, metavar="N",
              help="The app name `ls` and snapshots report (default: the script's name).")
@click.option("-m", "module", default=None, metavar="MODULE",
              help="Run a module, as `python -m MODULE` would.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, dock: bool, name: str | None, module: str | None,
        args: tuple[str, ...]) -> int:
    """Run SCRIPT [ARGS]... (or -m MODULE [ARGS]...) with the inspector attached.

    The program sees the same argv, __main__, streams and exit status as under python.
    Then, from another terminal: `resinspect top`. RESINSPECT=0 runs it uninspected.
    """
    from inspector.errors import BadInput
    from inspector.reach import runner

    if name is not None and not name.strip():
        raise click.BadParameter("must not be empty", ctx=ctx, param_hint="--name")
    if module is None and not args:
        raise click.UsageError("missing SCRIPT (or -m MODULE)", ctx=ctx)
    try:
        return runner.execute(args, module=module, name=name, dock=dock)
    except runner.ProgramNotFound as err:
        if module is not None:
            raise BadInput(str(err)) from None  # python's status for it: 1
        raise click.UsageError(str(err), ctx=ctx) from None  # python's status for it: 2
