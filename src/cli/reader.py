"""Where live snapshots come from: an application's socket. The commands' one seam.

Commands reach applications through :class:`Readers`, click's context object (``ctx.obj``):
:func:`cli.main.main` takes one (tests pass fakes), and :func:`readers` makes the default -
:func:`open_reader` and :func:`list_apps` - when none was given. Recordings and snapshot
files are read by :mod:`inspector.fleet.recording`, the one reader of files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import click

    from inspector.metrics.snapshot import ResourcePage, Snapshot
    from inspector.server.client import InspectorClient

#: How long a request to a live application may take before the CLI gives up on it.
DEFAULT_TIMEOUT_S = 5.0


class SnapshotReader(Protocol):
    """A source of snapshots: one now, or a stream of them."""

    def get_current_snapshot(self) -> Snapshot:
        """The application's state now (for a file: its last snapshot)."""
        ...

    def iter_snapshots(self, interval: float) -> Iterator[Snapshot]:
        """Snapshots about every ``interval`` seconds until the source ends.

        A live source raises ``ConnectionLost`` when the application goes away.
        """
        ...

    def resources(self, offset: int = 0, limit: int = 500, component_id: str | None = None
                  ) -> ResourcePage:
        """A page of the application's resource listing (one component's, when given)."""
        ...

    def exited(self) -> int | None:
        """After ``ConnectionLost``: the application's pid (0 if unknown) when it exited
        cleanly - its server removed its socket - or None when it is still listening or went
        without a goodbye (killed, crashed: the socket left behind). May wait a moment."""
        ...

    def close(self) -> None:
        """Release the connection; safe to call twice."""
        ...


class AppDescription(Protocol):
    """What discovery knows about a live application without connecting to it."""

    @property
    def pid(self) -> int: ...

    @property
    def app(self) -> str: ...

    @property
    def socket(self) -> Path: ...

    @property
    def started_at(self) -> float:
        """Wall-clock start time, seconds since the epoch."""
        ...

    @property
    def versions(self) -> dict[str, str]: ...

    @property
    def protocol(self) -> int: ...


class SocketReader:
    """Snapshots from a live application over its socket (:class:`InspectorClient`)."""

    def __init__(self, path: Path, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        # Imported here: only the commands that connect pay for the client.
        from inspector.server.client import InspectorClient

        self.path = path
        self._timeout = timeout
        self._client: InspectorClient = InspectorClient(path, timeout=timeout)
        self._pages: InspectorClient | None = None

    def get_current_snapshot(self) -> Snapshot:
        """One ``snapshot`` request."""
        return self._client.snapshot()

    def snapshot_with_objects(self) -> Snapshot:
        """One ``snapshot`` request that also counts the application's Python objects."""
        return self._client.snapshot(objects=True)

    def iter_snapshots(self, interval: float) -> Iterator[Snapshot]:
        """The application's pushes after ``subscribe`` (``interval`` seconds apart)."""
        yield from self._client.subscribe(interval)

    def resources(self, offset: int = 0, limit: int = 500, component_id: str | None = None
                  ) -> ResourcePage:
        """A page of the resource listing, over a second connection (the first one carries
        the subscription's pushes)."""
        from inspector.server.client import InspectorClient

        if self._pages is None:
            self._pages = InspectorClient(self.path, timeout=self._timeout)
        return self._pages.resources(offset, limit, component_id)

    def exited(self) -> int | None:
        """The pid in the socket's name once the socket is gone (within 2 s), else None."""
        import time

        from inspector.server.discovery import pid_from_name

        # A quitting server drops its clients a moment before it removes its socket.
        deadline = time.monotonic() + 2.0
        while self.path.exists():
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)
        return pid_from_name(self.path.stem) or 0

    def close(self) -> None:
        """Close the connections."""
        self._client.close()
        if self._pages is not None:
            self._pages.close()


def open_reader(
    pid: int | None = None,
    socket: str | Path | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> SnapshotReader:
    """A connected reader for the application chosen by ``pid``/``socket`` (or the only one).

    Raises ``NoApplication``, ``AmbiguousApplication``, ``ConnectionFailed``,
    ``AccessDenied`` or ``ProtocolError``.
    """
    from cli.options import resolve_target

    return SocketReader(resolve_target(pid, socket), timeout=timeout)


def connect(pid: int | None, socket: Path | None, *, timeout: float = DEFAULT_TIMEOUT_S
            ) -> InspectorClient:
    """A client of the application chosen by ``pid``/``socket`` (or the only one running),
    for the commands that ask more than snapshots (``why``, ``hangs``, ``dump``)."""
    from cli.options import resolve_target
    from inspector.server.client import InspectorClient

    return InspectorClient(resolve_target(pid, socket), timeout=timeout)


def list_apps() -> Sequence[AppDescription]:
    """The live applications, from their sidecar files (no connection is made)."""
    from inspector.server.discovery import list_apps as discover

    return discover()


@dataclass(frozen=True)
class Readers:
    """How commands reach live applications: ``open`` a reader for ``--pid``/``--socket``
    (or the only application), ``list_apps`` without connecting. The default is the real
    thing; tests pass their own to :func:`cli.main.main`."""

    open: Callable[[int | None, Path | None], SnapshotReader] = open_reader
    list_apps: Callable[[], Sequence[AppDescription]] = list_apps


def readers(ctx: click.Context | None = None) -> Readers:
    """The :class:`Readers` of the running command (``ctx``, else click's current context):
    what :func:`cli.main.main` was given, or the default."""
    import click

    return (ctx or click.get_current_context()).ensure_object(Readers)
