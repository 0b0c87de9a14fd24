"""The ``resinspect`` entry point: the command group and the one place errors become exits.

Commands raise the error tree of :mod:`inspector.errors` and never print errors themselves;
:func:`main` turns every failure into exactly one line on stderr and an exit status
(docs/architecture.md, "The command line's contract"). A traceback is shown only with
``RESINSPECT_DEBUG=1``.

Exit statuses: 0 success; 1 an error (``ResinspectError.exit_code``, or anything unexpected);
2 a usage error; 130 interrupted (Ctrl-C); 141 the reader of our output went away (the
status a shell reports for a process killed by SIGPIPE).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

import click

from cli.commands import COMMANDS
from cli.lazy import LazyGroup
from inspector.errors import ResinspectError

PROG = "resinspect"

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


@click.group(
    cls=LazyGroup,
    lazy_subcommands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
# The version comes from the installed distribution, read only when --version is given:
# importing `inspector` itself would make the CLI depend (statically) on all it can load.
@click.version_option(None, "-V", "--version", package_name="resinspect", prog_name=PROG,
                      message="%(prog)s %(version)s")
def resinspect() -> None:
    """Inspect the resources of live PySide6 applications.

    An application instrumented with inspector.attach() listens on a private local socket:
    `resinspect ls` lists them, `top` watches one, `snapshot` exports one.
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``resinspect`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Never raises (``SystemExit`` included): the console script passes the result to
    ``sys.exit``.
    """
    try:
        result = resinspect.main(
            args=list(argv) if argv is not None else None,
            prog_name=PROG,
            standalone_mode=False,
        )
        # Flush here, inside the handlers: a closed pipe otherwise surfaces at interpreter
        # exit as an "Exception ignored" message.
        sys.stdout.flush()
    except ResinspectError as err:
        return _fail(str(err), err.exit_code)
    except click.exceptions.NoArgsIsHelpError as err:
        # `resinspect` alone: the help, as click itself shows it, is the useful answer.
        err.show()
        return EXIT_USAGE
    except click.UsageError as err:
        hint = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
        return _fail(err.format_message() + hint, EXIT_USAGE)
    except click.ClickException as err:
        return _fail(err.format_message(), err.exit_code)
    except (click.Abort, KeyboardInterrupt):
        # click has already ended the terminal's "^C" line; nothing else to say.
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except SystemExit as exc:
        # click exits by itself on EPIPE even when not standalone; a command may sys.exit().
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        return _fail(str(exc.code), 1)
    except Exception as err:  # the last line of defence: one line, never a traceback
        return _fail(f"unexpected error: {type(err).__name__}: {err}"
                     " (set RESINSPECT_DEBUG=1 for details)", 1)
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    return 0


def _fail(message: str, code: int) -> int:
    """Write ``resinspect: <message>`` as one line on stderr and return ``code``."""
    if os.environ.get("RESINSPECT_DEBUG") == "1" and sys.exc_info()[0] is not None:
        import traceback  # only here: it costs start-up time every run would pay

        traceback.print_exc()
    # A message may span lines (a list of candidate applications, say): the contract is one.
    one_line = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    with contextlib.suppress(OSError):  # stderr itself gone: the status is all that is left
        click.echo(f"{PROG}: {one_line or 'error'}", err=True)
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass


if __name__ == "__main__":
    raise SystemExit(main())
