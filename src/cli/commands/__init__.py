"""The registry of ``resinspect`` subcommands.

Adding a command is one line here plus its module: ``name: LazyCommand("cli.commands.name:attr",
"one-line help")``. Modules are imported only when their command runs (see :mod:`cli.lazy`),
so a command's imports never slow down the others; keep each module's top-level imports to
click and the standard library, and import anything heavy inside the command function.
"""

from __future__ import annotations

from cli.lazy import LazyCommand

COMMANDS: dict[str, LazyCommand] = {
    "demo": LazyCommand("cli.commands.demo:demo",
                        "Run the sample application with the inspector docked."),
    "ls": LazyCommand("cli.commands.ls:ls", "List the live applications that can be inspected."),
    "snapshot": LazyCommand("cli.commands.snapshot:snapshot",
                            "Print one snapshot of an application (JSON, CSV or Prometheus)."),
    "top": LazyCommand("cli.commands.top:top", "Live view of an application's resources."),
    "view": LazyCommand("cli.commands.view:view",
                        "The inspector panel in a window, on a live app or a recording."),
    "record": LazyCommand("cli.commands.record:record",
                          "Record snapshots over time to a file, one JSON object a line."),
    "diff": LazyCommand("cli.commands.diff:diff",
                        "What grew between two snapshots or recordings; fail on budgets."),
    "run": LazyCommand("cli.commands.run:run",
                       "Run an unmodified PySide6 program with the inspector attached."),
    "why": LazyCommand("cli.commands.why:why",
                       "The chain of references, from a root, that keeps a resource alive."),
    "exporter": LazyCommand("cli.commands.exporter:exporter",
                            "Serve every live application's metrics to Prometheus."),
    "hangs": LazyCommand("cli.commands.hangs:hangs",
                         "Stalls of the GUI thread since start, and where their time went."),
    "dump": LazyCommand("cli.commands.dump:dump",
                        "Every thread's Python stack, threads named, the GUI thread first."),
}
