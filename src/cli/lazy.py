"""A click group whose subcommands are imported on first use (click's ``LazyGroup`` pattern).

``resinspect snapshot`` must not pay for the imports of ``top`` (rich) or ``view`` (Qt), and
``resinspect --help`` must not import any command at all: each entry carries its own short
help, so the listing is built from the registry alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import click


class LazyCommand(NamedTuple):
    """Where a subcommand lives (``"package.module:attribute"``) and its one-line help."""

    import_path: str
    short_help: str


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is asked for."""

    def __init__(
        self,
        *args: Any,
        lazy_subcommands: Mapping[str, LazyCommand] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands: dict[str, LazyCommand] = dict(lazy_subcommands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eagerly added commands and lazy ones, sorted by name."""
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, importing its module if it is a lazy one."""
        entry = self.lazy_subcommands.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        return _load(cmd_name, entry)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands" section of ``--help``, from the registry: imports nothing."""
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            entry = self.lazy_subcommands.get(name)
            if entry is not None:
                rows.append((name, entry.short_help))
                continue
            cmd = super().get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _load(name: str, entry: LazyCommand) -> click.Command:
    module_name, _, attribute = entry.import_path.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        # A registry typo is a bug in resinspect itself, not a user error.
        raise TypeError(f"{entry.import_path} is not a click command (registered as {name!r})")
    return command
