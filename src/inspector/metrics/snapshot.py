"""The snapshot: an immutable picture of an application's resources at one moment.

Everything that leaves the process (socket replies, exports, recordings) is one of these
structs, encoded by msgspec (66 ms for 100k records against 461 ms with ``json``). The schema
id ``resinspect.snapshot/1`` changes only with an incompatible change; fields are only ever
added, with defaults, so older readers keep working. ``snapshot.schema.json`` beside this file
is the committed JSON Schema; tests validate real snapshots against it.

This module imports no Qt at all: the CLI decodes snapshots with it.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import msgspec

SCHEMA = "resinspect.snapshot/1"

#: Leak-suspect reasons (docs/architecture.md, "Leak suspects").
RETAINED_AFTER_CLEANUP = "retained_after_cleanup"
ORPHAN_WORKER = "orphan_worker"
GROWTH = "growth"


#: ``#<number>`` instance suffixes, wherever they are in an id (ids may be paths such as
#: ``MainWindow.tabs.ThumbnailTab#3.Loader``).
_INSTANCE = re.compile(r"#\d+")


def group_of(component_id: str) -> str:
    """A component id without its instance numbers: ``Tab#3.Loader#1`` → ``Tab.Loader``.

    The component's class, for everything that must not grow with the number of instances:
    diffs across runs, budgets, Prometheus labels.
    """
    return _INSTANCE.sub("", component_id)


class TypeStats(msgspec.Struct, frozen=True, kw_only=True):
    """Counters of one resource type."""

    live: int
    created: int
    destroyed: int
    bytes: int


class ComponentStats(msgspec.Struct, frozen=True, kw_only=True):
    """One owner: registered now (``alive``) or gone but still holding suspects."""

    id: str
    type: str
    live: int
    bytes: int
    alive: bool
    created: int = 0
    destroyed: int = 0
    age_s: float = 0.0


class LeakSuspect(msgspec.Struct, frozen=True, kw_only=True):
    """A resource (or, for ``growth``, a component or type) that looks leaked.

    ``component_id`` is ``"*"`` for a type-wide growth; ``resource_id`` is the newest
    resource of the growing component (empty for a type-wide growth), or of the group.
    ``name`` is the name it was tracked under (or its class), ``site`` where it was made.
    A retained resource is ``confirmed`` once it survived a full garbage collection that
    began after its release; until then it is pending, and budgets do not count it.
    Suspects with the same owner class, type, reason and site are one row: ``count``.
    """

    component_id: str
    resource_type: str
    resource_id: str
    reason: str
    age_s: float
    detail: str = ""
    size_bytes: int = 0
    name: str = ""
    site: str = ""
    confirmed: bool = True
    count: int = 1


class WorkerInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A tracked worker."""

    resource_id: str
    component_id: str
    running: bool
    age_s: float
    type_name: str = ""


class CallbackAudit(msgspec.Struct, frozen=True, kw_only=True):
    """One cleanup callback as it ran."""

    name: str
    priority: int
    order: int
    duration_ms: float
    error: str | None = None


class TeardownAudit(msgspec.Struct, frozen=True, kw_only=True):
    """A component's cleanup: why, when (seconds since start), what ran, what it released."""

    component_id: str
    reason: str
    t: float
    released: int
    callbacks: list[CallbackAudit] = msgspec.field(default_factory=list)


class Marker(msgspec.Struct, frozen=True, kw_only=True):
    """A lifecycle moment for annotated plots: ``kind`` is registered, cleaned_up or destroyed.

    ``t`` is seconds since the model started, the time axis of the history.
    """

    t: float
    kind: str
    component_id: str


class HangFrame(msgspec.Struct, frozen=True, kw_only=True):
    """Where part of a stall's time went: a function, ``"function (file:line)"`` with its most
    sampled line, and the milliseconds of the stall spent in it (callees included).

    ``depth`` counts frames below the stall's trunk (the frames every sample shared; the
    deepest of them has depth 0), so a reader can indent callees under their callers.
    """

    frame: str
    ms: float
    depth: int = 0


class Hang(msgspec.Struct, frozen=True, kw_only=True):
    """One stall of the GUI thread longer than the hang threshold.

    ``started`` is unix seconds; ``stack`` is the GUI thread's stack (innermost last) of the
    sample seen most; ``where`` merges every sample by function, most time first.
    ``samples`` counts the stacks read during the stall; ``native`` says that for part of it
    the GIL was held by native code (no Python thread could run) and the stall was seen by
    the watchdog instead of the sampler.
    """

    started: float
    duration_ms: float
    stack: list[str] = msgspec.field(default_factory=list)
    where: list[HangFrame] = msgspec.field(default_factory=list)
    samples: int = 0
    native: bool = False
class QtObjectInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A QThread, QTimer or window seen under ``resinspect run`` and its state now.

    ``kind`` is ``thread``, ``timer`` or ``window``; ``state`` is ``running``, ``finished``,
    ``not started`` (threads), ``active``, ``stopped`` (timers), ``shown``, ``hidden``,
    ``closed`` (windows) or ``deleted``. ``site`` is where it was started or first shown,
    ``"function (file:line)"``; ``name`` its objectName (threads, timers) or title (windows).
    """

    resource_id: str
    component_id: str
    kind: str
    class_name: str
    name: str
    site: str
    state: str
    age_s: float
    interval_ms: int = 0


class CensusEntry(msgspec.Struct, frozen=True, kw_only=True):
    """Live QObject wrappers of one class, and wrappers whose C++ object is deleted."""

    class_name: str
    live: int
    dangling: int = 0


class QtCensus(msgspec.Struct, frozen=True, kw_only=True):
    """The last census of QObjects (``t``: seconds since the inspector started).

    ``classes`` holds the largest classes and every class with dangling wrappers.
    """

    t: float
    duration_ms: float
    live: int
    dangling: int
    classes: list[CensusEntry] = msgspec.field(default_factory=list)


class TypeCount(msgspec.Struct, frozen=True, kw_only=True):
    """Python objects of one type (``module.qualname``), on request."""

    type_name: str
    count: int


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """An application's resources at one moment (docs/architecture.md, "The snapshot and its
    versioning").

    ``by_type`` is keyed by ``ResourceType`` value; ``components`` is sorted by live bytes,
    then live count, largest first. ``seq`` rises by one per snapshot the model takes.
    ``hangs`` are the GUI thread's recent stalls over ``hang_threshold_ms``, newest last (at
    most 100); ``hang_count``, ``hang_total_ms`` and ``hang_max_ms`` cover the whole run.
    """

    pid: int
    app: str
    timestamp: float
    uptime_s: float
    created_total: int
    destroyed_total: int
    live_resources: int
    tracked_bytes: int
    peak_tracked_bytes: int
    rss_bytes: int
    peak_rss_bytes: int
    active_workers: int
    cache_bytes: int
    cache_entries: int
    event_loop_lag_ms: float
    gui_stack: list[str]
    by_type: dict[str, TypeStats]
    components: list[ComponentStats]
    leak_suspects: list[LeakSuspect]
    schema: str = SCHEMA
    seq: int = 0
    event_loop_blocked: bool = False
    lag_threshold_ms: float = 500.0
    workers: list[WorkerInfo] = msgspec.field(default_factory=list)
    markers: list[Marker] = msgspec.field(default_factory=list)
    audits: list[TeardownAudit] = msgspec.field(default_factory=list)
    hangs: list[Hang] = msgspec.field(default_factory=list)
    hang_count: int = 0
    hang_total_ms: float = 0.0
    hang_max_ms: float = 0.0
    hang_threshold_ms: float = 200.0
    #: Threads, timers and windows seen without the program's cooperation (``run``).
    qt_objects: list[QtObjectInfo] = msgspec.field(default_factory=list)
    #: The last QObject census (``run``), or None.
    census: QtCensus | None = None
    #: Python objects by type, largest first: only when asked for (``snapshot --objects``).
    python_objects: list[TypeCount] | None = None
    #: The inspector's own share of ``rss_bytes`` (an estimate: what its parts added to the
    #: resident set when they were set up, plus its history rings); ``rss_bytes`` minus this
    #: is the application's.
    inspector_bytes: int = 0

    @property
    def blocked(self) -> bool:
        """Whether the GUI thread counts as frozen: flagged, or lag at or over the threshold.

        The one rule every view uses (``top``, the dock, status lines).
        """
        return self.event_loop_blocked or (
            self.event_loop_lag_ms >= self.lag_threshold_ms > 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts, lists and scalars, ready for any JSON encoder."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON."""
        return _encoder.encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        """Validate and convert decoded JSON; raises ``msgspec.ValidationError``."""
        return msgspec.convert(data, cls)

    @classmethod
    def from_json(cls, data: bytes | str) -> Snapshot:
        """Decode and validate JSON; raises ``msgspec.DecodeError`` or ``ValidationError``."""
        return _decoder.decode(data)


class ResourceEntry(msgspec.Struct, frozen=True, gc=False):
    """One tracked resource in a listing.

    Positional construction and ``gc=False`` (it holds no cycles): listings build 100k of
    these, and both cut that cost.
    """

    resource_id: str
    component_id: str
    resource_type: str
    size_bytes: int
    age_s: float
    thread_id: int
    type_name: str
    alive: bool
    metadata: dict[str, Any] | None = None
    name: str = ""
    site: str = ""
    #: The thread the resource belongs to, by name: a worker's own thread (a QThread's
    #: objectName or class, a ``threading.Thread``'s name), else the thread that tracked it.
    thread_name: str = ""


class WhyLink(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One link of a ``why`` chain: what holds the next link (``kind``, ``name``) and, where
    it has one, the ``site`` it was made at (a function's definition, a resource's creation).

    Kinds: roots ``module global``, ``class attribute``, ``thread frame``, ``qt connection``,
    ``qt parent``, ``native``; then ``attribute``, ``list item``, ``tuple item``, ``set item``,
    ``dict value``, ``dict key``, ``closure``, ``function``, ``bound method``, ``partial``,
    ``reference``; the last link is the ``object`` itself.
    """

    kind: str
    name: str
    site: str = ""


class WhyResult(msgspec.Struct, frozen=True, kw_only=True):
    """The shortest chain of references found from a root to a resource, root first.

    ``complete`` is false when no root was reached within the time budget (the chain is
    then the longest one found, ending at the object).
    """

    resource_id: str
    chain: list[WhyLink]
    complete: bool


class ResourcePage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of the full resource listing: ``items[offset:offset+len(items)]`` of ``total``."""

    total: int
    offset: int
    items: list[ResourceEntry]


class History(msgspec.Struct, frozen=True, kw_only=True):
    """The model's ring buffers, oldest first, as parallel columns.

    ``t`` is seconds since the model started; every other column has one value per ``t``.
    ``live_by_type`` has a column per resource type that has ever been tracked.
    """

    t: list[float]
    rss_bytes: list[int]
    tracked_bytes: list[int]
    live_resources: list[int]
    active_workers: list[int]
    cache_bytes: list[int]
    event_loop_lag_ms: list[float]
    live_by_type: dict[str, list[int]]
    markers: list[Marker]
    #: The inspector's own share of each ``rss_bytes`` sample (see ``Snapshot``).
    inspector_bytes: list[int] = msgspec.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain builtins for JSON."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a snapshot; ``snapshot.schema.json`` is this, committed.

    ``schema`` is pinned to its constant, so a reader can rely on the version it names.
    """
    schema: dict[str, Any] = msgspec.json.schema(Snapshot)
    _clean_descriptions(schema)
    snapshot_def = schema["$defs"]["Snapshot"]
    snapshot_def["properties"]["schema"] = {"const": SCHEMA}
    snapshot_def["required"] = sorted({*snapshot_def["required"], "schema"})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA
    schema["title"] = "resinspect snapshot"
    return schema


def _clean_descriptions(node: Any) -> None:
    """Docstring descriptions in one canonical form, whatever msgspec version made them.

    msgspec 0.23 strips docstring indentation that 0.22 kept; ``inspect.cleandoc`` of either is
    the same text, so the committed schema does not depend on the installed msgspec.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = inspect.cleandoc(value)
            else:
                _clean_descriptions(value)
    elif isinstance(node, list):
        for item in node:
            _clean_descriptions(item)


def write_schema() -> Path:
    """Write the committed ``snapshot.schema.json`` from the structs (scripts/update-schema.sh)."""
    path = Path(__file__).with_name("snapshot.schema.json")
    path.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Snapshot)
