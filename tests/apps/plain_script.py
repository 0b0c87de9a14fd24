"""A plain script whose every observable is printed: what `resinspect run` must not change.

    python tests/apps/plain_script.py [ARGS...]

Prints argv, __name__, sys.path[0], __file__ and what it reads from stdin, writes a line to
stderr, and exits with the status given by ``--status N`` (``--status text`` calls
``sys.exit("text")``; ``--raise`` ends with an uncaught exception).
"""

from __future__ import annotations

import os
import signal
import sys

print("argv", sys.argv)
print("name", __name__)
print("path0", sys.path[0])
print("file", __file__)
print("main", sys.modules["__main__"].__dict__.get("MARK"))
print("sigint", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
print("stdin", sys.stdin.read().strip())
print("cwd", os.getcwd())
print("to stderr", file=sys.stderr)
MARK = "mine"


def fail() -> None:
    raise RuntimeError("it broke")


if "--raise" in sys.argv:
    fail()
if "--status" in sys.argv:
    value = sys.argv[sys.argv.index("--status") + 1]
    sys.exit(int(value) if value.lstrip("-").isdigit() else value)
