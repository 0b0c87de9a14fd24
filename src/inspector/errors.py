"""The one error tree of resinspect. The CLI turns these into one line and an exit status
in ``cli.main`` and nowhere else; the library raises them and never prints.
"""

from __future__ import annotations


class ResinspectError(Exception):
    """Base of every error resinspect reports to a user. ``str(err)`` is the one line shown."""

    exit_code = 1


class NoApplication(ResinspectError):
    """No live application matched (none running, or not the pid/socket asked for)."""


class AmbiguousApplication(ResinspectError):
    """Several live applications match and none was chosen with --pid or --socket."""


class ConnectionFailed(ResinspectError):
    """The socket exists but refused or could not be reached."""


class AccessDenied(ResinspectError):
    """The socket or its directory belongs to someone else or has unsafe permissions."""


class UnsafeRuntimeDirectory(AccessDenied):
    """The runtime directory is a symlink, has another owner, or is open to group/other."""


class SocketPathTooLong(ResinspectError):
    """The socket path does not fit in an AF_UNIX address (108 bytes on Linux)."""


class ServerAlreadyRunning(ResinspectError):
    """A live server already listens at this process's socket path."""


class ProtocolError(ResinspectError):
    """The peer sent something that is not the protocol (or a version we do not speak)."""


class ConnectionLost(ResinspectError):
    """The application went away in the middle of a conversation."""


class RequestTimedOut(ConnectionLost):
    """The application took no request, or gave no answer, within the client's timeout.

    A ``ConnectionLost`` (the conversation is over: a late reply would answer the wrong
    request), so it keeps that error's exit status; callers that count timeouts catch it.
    """


class NotAnswering(ConnectionLost):
    """The application cannot answer: native code holds the GIL, so no Python thread runs.

    ``str(err)`` is the one-line verdict; ``report`` is the stall file's
    ``inspector.metrics.hangs.StallReport`` (every thread's last readable stack).
    """

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class RemoteError(ResinspectError):
    """The server answered a request with a JSON-RPC error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"server error {code}: {message}")
        self.code = code
        self.message = message


class BadInput(ResinspectError):
    """A file or argument given to the CLI is unreadable or not what it should be."""


class UsageError(ResinspectError):
    """The command line itself is wrong (an option value that cannot be read): exit 2, as
    click's own usage errors, so a script tells a typo from a failure."""

    exit_code = 2


class BadRule(UsageError, BadInput):
    """A budget rule (``--fail-on``, the pytest marker) that cannot be read: a usage error."""


class BudgetExceeded(ResinspectError):
    """``resinspect diff --fail-on``: a budget was broken."""
