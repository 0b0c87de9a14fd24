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
import errno
import io
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from cli.commands import COMMANDS
from cli.lazy import LazyGroup
from inspector.errors import ResinspectError

if TYPE_CHECKING:
    from cli.reader import Readers

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


def main(argv: Sequence[str] | None = None, *, readers: Readers | None = None) -> int:
    """Run ``resinspect`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    ``readers`` is how commands reach live applications (click's ``ctx.obj``; default: the
    real sockets, :class:`cli.reader.Readers`). Never raises (``SystemExit`` included): the
    console script passes the result to ``sys.exit``.
    """
    if sys.stdout is None:  # started with stdout closed (`resinspect ls >&-`)
        sys.stdout = _ClosedStream("standard output")
    try:
        result = resinspect.main(
            args=list(argv) if argv is not None else None,
            prog_name=PROG,
            standalone_mode=False,
            obj=readers,
        )
        # Flush here, inside the handlers: a closed pipe otherwise surfaces at interpreter
        # exit as an "Exception ignored" message.
        sys.stdout.flush()
    except ResinspectError as err:
        return _fail(str(err), err.exit_code)
    except (click.ClickException, click.Abort, KeyboardInterrupt, SystemExit) as exc:
        return _ended_by_click(exc)
    except OSError as err:
        return _os_error(err)
    except Exception as err:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        return _fail(_describe(err), 1)
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    return 0


def _ended_by_click(exc: BaseException) -> int:
    """The status of a run that click ended (a usage error, help, Abort), Ctrl-C, or a
    ``sys.exit``; usage errors are one line."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        # `resinspect` alone: the help, as click itself shows it, is the useful answer.
        exc.show()
        return EXIT_USAGE
    if isinstance(exc, click.UsageError):
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        return _fail(exc.format_message() + hint, EXIT_USAGE)
    if isinstance(exc, click.ClickException):
        return _fail(exc.format_message(), exc.exit_code)
    if isinstance(exc, SystemExit):
        # click exits by itself on EPIPE even when not standalone; a command may sys.exit().
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        return _fail(str(exc.code), 1)
    # click.Abort, KeyboardInterrupt: click has already ended the terminal's "^C" line.
    return EXIT_INTERRUPTED


def _os_error(err: OSError) -> int:
    """One line for a failing file, pipe or socket; silent 141 when our reader went away."""
    if isinstance(err, BrokenPipeError) or err.errno == errno.EPIPE:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    if isinstance(err, PermissionError):
        return _fail(f"permission denied{_where(err)}", 1)
    if err.errno == errno.ENOSPC and err.filename is None:
        # stdout is full (/dev/full, a full disk): what is still buffered would fail
        # again at interpreter exit ("Exception ignored", status 120) unless dropped.
        _silence_stdout()
    return _fail(f"{err.strerror or type(err).__name__}{_where(err)}", 1)


def _describe(err: Exception) -> str:
    """One line for a failure no command expected: what hostile or corrupt input that
    exhausted a limit did, else the exception itself."""
    if isinstance(err, RecursionError):
        return "input nested too deeply to read (a hostile or corrupt file or reply?)"
    if isinstance(err, MemoryError):
        return "out of memory (input too large?)"
    if isinstance(err, OverflowError):
        return f"a number out of range: {err}"
    return (f"unexpected error: {type(err).__name__}: {err}"
            " (set RESINSPECT_DEBUG=1 for details)")


class _ClosedStream(io.TextIOBase):
    """Stands for a standard stream the process was started without: writing to it is an
    ``OSError`` that says so (one line), while commands that write elsewhere still work."""

    def __init__(self, what: str) -> None:
        self._what = what

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, f"{self._what} is closed")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False


def _where(err: OSError) -> str:
    """`` (PATH)`` for an error about a file, else what the error says, after a colon."""
    if err.filename is not None:
        return f": {os.fsdecode(err.filename)}"
    if err.strerror is None and str(err):
        return f": {err}"
    return " (writing the output?)" if err.errno == errno.ENOSPC else ""


def _fail(message: str, code: int) -> int:
    """Write ``resinspect: <message>`` as one line on stderr and return ``code``."""
    if os.environ.get("RESINSPECT_DEBUG") == "1" and sys.exc_info()[0] is not None:
        import traceback  # only here: it costs start-up time every run would pay

        traceback.print_exc()
    from inspector.metrics.text import safe

    # A message may span lines (a list of candidate applications, say): the contract is one.
    # It may also carry names from an application or a file: escaped, as every text output.
    one_line = safe("; ".join(part.strip() for part in message.splitlines() if part.strip()))
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
