"""The registry of ``resinspect`` subcommands.

Adding a command is one line here plus its module: ``name: LazyCommand("cli.commands.name:attr",
"one-line help")``. Modules are imported only when their command runs (see :mod:`cli.lazy`),
so a command's imports never slow down the others; keep each module's top-level imports to
click and the standard library, and import anything heavy inside the command function.
"""

from __future__ import annotations

from cli.lazy import LazyCommand

COMMANDS: dict[str, LazyCommand] = {
    "ls": LazyCommand("cli.commands.ls:ls", "List the live applications that can be inspected."),
    "snapshot": LazyCommand("cli.commands.snapshot:snapshot",
                            "Print one snapshot of an application (JSON, CSV or Prometheus)."),
    "top": LazyCommand("cli.commands.top:top", "Live view of an application's resources."),
    "view": LazyCommand("cli.commands.view:view",
                        "The inspector panel in a window, on a live app or a recording."),
}
