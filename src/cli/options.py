"""Options shared by the commands that talk to one application, and how they find it."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: Longest interval, duration or timeout any option takes: a day. The server refuses a
#: subscription interval over a day, and a longer number is a typo, not a plan.
MAX_SECONDS = 86_400.0


class Seconds(click.FloatRange):
    """A finite number of seconds in a range: ``nan``, ``inf`` and ``1e300`` are usage errors.

    ``FloatRange`` lets ``nan`` through (every comparison with it is false) and ``inf`` too
    when there is no maximum: ``record --duration nan`` recorded forever and ``exporter
    --timeout inf`` failed every scrape with a traceback.
    """

    name = "seconds"

    def __init__(self, min: float, max: float = MAX_SECONDS, *, min_open: bool = False
                 ) -> None:
        super().__init__(min=min, max=max, min_open=min_open)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds.", param, ctx)
        return super().convert(number, param, ctx)


def _exclusive(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    # Each of the pair checks for the other: click processes options in command-line order,
    # so whichever comes second sees the first in ctx.params.
    other = "socket" if param.name == "pid" else "pid"
    if value is not None and ctx.params.get(other) is not None:
        raise click.UsageError("--pid and --socket cannot be used together", ctx=ctx)
    return value


def target_options(f: F) -> F:
    """Add ``--pid`` and ``--socket`` (mutually exclusive) to a command.

    The command receives ``pid: int | None`` and ``socket: Path | None``; with neither, the
    application is found by itself when exactly one is running.
    """
    f = click.option(
        "--socket",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        callback=_exclusive,
        help="The application's socket path (as `resinspect ls` shows it).",
    )(f)
    f = click.option(
        "--pid",
        type=click.IntRange(min=1),
        default=None,
        callback=_exclusive,
        help="The process id of the application.",
    )(f)
    return f


def resolve_target(pid: int | None, socket: str | Path | None) -> Path:
    """The socket of the application chosen by ``pid`` or ``socket``, or the only one running.

    Raises ``NoApplication`` or ``AmbiguousApplication`` (listing the candidates).
    """
    from inspector.server.discovery import find_app

    return Path(find_app(pid=pid, socket=socket).socket)
