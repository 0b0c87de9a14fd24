"""The one ``MetricsSource`` protocol: what the server serves and the dock shows.

``inspector.metrics.MetricsModel`` (in the application), ``inspector.sources.RemoteSource``
(over a socket) and ``inspector.sources.RecordingSource`` (a replay) satisfy it; tests pass
any object with these members. It lives in the lowest package that consumes it, the server,
so that ``inspector.sources`` (above the server: its remote source uses the server's client)
and ``inspector.ui`` can import it without a cycle between packages (docs/architecture.md).

:class:`MetricsSource` is what every source answers. What only some sources can do is a
capability of its own, checked with ``isinstance`` where it is used, never reached with
``getattr``: a name (:class:`NamedSource`), a reason it went away (:class:`FailingSource`),
forgetting its history (:class:`ClearableSource`), sampling on its own thread that a viewer
may start and stop (:class:`SamplingSource`), explaining what keeps a resource alive
(:class:`ExplainingSource`), a hang log (:class:`HangSource`), a stall file
(:class:`StallWatchingSource`), and the thread facts the ``stacks`` reply reads
(:class:`ProbedSource`, :class:`ServicedSource`).

The server calls every member from its own threads and the dock from the GUI thread at each
refresh: each must be thread-safe, quick, and must never need the GUI thread (a frozen GUI is
exactly when a user asks).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: a panel not yet built needs no snapshot types
    from ..metrics.snapshot import History, ResourcePage, Snapshot, WhyResult
    from ..metrics.stacks import MainThreadStack
    from ..resources.interfaces import InspectedService


@runtime_checkable
class MetricsSource(Protocol):
    """The read API every source answers: a snapshot, the history columns, a resource page."""

    def snapshot(self) -> Snapshot:
        """The application's resources now; never waits for the GUI thread."""
        ...

    def history(self) -> History:
        """The sampled history, oldest first, as parallel columns."""
        ...

    def resources(
        self, offset: int = 0, limit: int = 500, component_id: str | None = None
    ) -> ResourcePage:
        """A page of the resource listing, optionally of one component only."""
        ...


@runtime_checkable
class NamedSource(Protocol):
    """A source that knows its application's name (hello and the sidecar report it)."""

    @property
    def app(self) -> str:
        """The application's name."""
        ...


@runtime_checkable
class FailingSource(Protocol):
    """A source that can lose its application (a remote one): ``error`` says why."""

    @property
    def error(self) -> str | None:
        """The one-line reason the application is gone; None while it answers."""
        ...


@runtime_checkable
class ClearableSource(Protocol):
    """A source that can drop its own history (the dock's *clear history* button)."""

    def clear_history(self) -> None:
        """Forget every history sample and marker taken so far."""
        ...


@runtime_checkable
class SamplingSource(Protocol):
    """A source that samples its history on a thread of its own (the in-process model): a
    panel that shows it may start that sampling, and stops only what it started."""

    @property
    def sampling(self) -> bool:
        """Whether the sampling thread runs."""
        ...

    def start(self) -> None:
        """Start sampling."""
        ...

    def stop(self) -> None:
        """Stop sampling."""
        ...

    def sample(self) -> None:
        """Take one sample now."""
        ...


@runtime_checkable
class ExplainingSource(Protocol):
    """A source with a heap to walk: it can say what keeps a resource alive (``why``)."""

    def why(self, resource_id: str) -> WhyResult:
        """The shortest chain of references keeping ``resource_id`` alive; ``LookupError``
        when the id is unknown or its object is gone. Slow: call it off the GUI thread."""
        ...


@runtime_checkable
class HangSource(Protocol):
    """A source with a hang log (``hangs``)."""

    def hangs(self) -> dict[str, Any]:
        """The hang log as the ``hangs`` reply carries it."""
        ...


@runtime_checkable
class StallWatchingSource(Protocol):
    """A source that can keep a stall file the CLI reads when no Python thread can run."""

    def watch_stalls(self, path: Path) -> bool:
        """Keep the stall file at ``path``; False when it cannot (no GUI thread yet)."""
        ...

    def unwatch_stalls(self) -> None:
        """Stop keeping it and remove it (idempotent)."""
        ...


class GuiProbe(Protocol):
    """What the ``stacks`` reply reads from an event-loop probe."""

    @property
    def main_stack(self) -> MainThreadStack:
        """Reads the main thread's stack from that thread itself."""
        ...

    @property
    def gui_ident(self) -> int | None:
        """The GUI thread's ``threading`` ident, once known."""
        ...


@runtime_checkable
class ProbedSource(Protocol):
    """A source that watches the GUI thread (names it, reads its stack)."""

    @property
    def probe(self) -> GuiProbe:
        """The event-loop probe."""
        ...


@runtime_checkable
class ServicedSource(Protocol):
    """A source over a resource service: ``stacks`` names threads after tracked workers."""

    @property
    def service(self) -> InspectedService:
        """The resource service the source reads."""
        ...
