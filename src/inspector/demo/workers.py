"""The demo's worker threads: thumbnails, hashing, copy and verify.

Every worker is a ``QThread`` subclass that can be cancelled (``cancel()`` sets an event the
work checks between chunks, so a cancelled worker stops within one chunk) and that talks to
the GUI only through its signals: it is created in the GUI thread and emits from its own, so
its receivers there get every signal queued. The last signal a worker emits is ``outcome``,
carrying a :class:`JobOutcome`; ``finished`` follows it.

Workers own nothing the inspector sees: their controllers track them (and what they produce).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtGui import QImage, QImageReader

from inspector.resources import ResourcePool

log = logging.getLogger("inspector.demo")

#: Bytes read per step: the unit of progress and of how quickly a cancel is honoured.
CHUNK = 256 * 1024

#: Digest algorithms offered by the hashing tab.
ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha256", "blake2b")


class Status(StrEnum):
    """How a job ended."""

    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What a worker reports when it stops: its job id, how it ended, and its result."""

    job_id: str
    status: Status
    result: object = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class VerifiedCopy:
    """One file copied and read back: both digests, and whether they (and any expected
    digest) agree."""

    source: Path
    copy: Path
    source_digest: str
    copy_digest: str
    ok: bool


@dataclass(slots=True)
class CopyReport:
    """The result of a :class:`CopyVerifyWorker`: every file it copied, in order."""

    algorithm: str
    copies: list[VerifiedCopy] = field(default_factory=list)

    @property
    def all_ok(self) -> bool:
        """Whether every copy matched its source."""
        return all(c.ok for c in self.copies)


class Cancelled(Exception):
    """Raised inside a worker's ``work()`` when it has been asked to stop."""


class DemoWorker(QThread):
    """Base of the demo's workers: cooperative cancellation, paced I/O, one outcome.

    ``io_delay_s`` is a pause after every chunk, so that on a small data set a job still
    lasts long enough to watch it in the inspector (and to cancel it). Subclasses implement
    :meth:`work`.
    """

    #: Percent done (0-100) and what is being worked on.
    progress = Signal(int, str)
    #: A :class:`JobOutcome`, always the last signal before ``finished``.
    outcome = Signal(object)

    def __init__(self, *, io_delay_s: float = 0.0) -> None:
        super().__init__()
        #: Set by the owning controller before ``start()``; echoed in the outcome.
        self.job_id = ""
        self._cancel = threading.Event()
        self._io_delay_s = io_delay_s

    def cancel(self) -> None:
        """Ask the worker to stop at its next chunk (thread-safe, idempotent)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        """Whether :meth:`cancel` (or ``requestInterruption()``) was called."""
        return self._cancel.is_set() or self.isInterruptionRequested()

    def run(self) -> None:
        """Run :meth:`work` and report how it ended; never lets an exception escape."""
        try:
            outcome = JobOutcome(self.job_id, Status.DONE, self.work())
        except Cancelled:
            outcome = JobOutcome(self.job_id, Status.CANCELLED)
        except Exception as exc:  # the GUI hears about it; the thread must end cleanly
            log.exception("%s failed", type(self).__name__)
            outcome = JobOutcome(self.job_id, Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        self.outcome.emit(outcome)

    def work(self) -> object:
        """The job itself, on the worker thread; return its result."""
        raise NotImplementedError

    def checkpoint(self) -> None:
        """Pause for the simulated I/O delay, then raise :class:`Cancelled` if asked to stop."""
        if self._io_delay_s > 0:
            self._cancel.wait(self._io_delay_s)  # wakes at once on cancel()
        if self.cancel_requested:
            raise Cancelled


def read_chunks(path: Path, worker: DemoWorker, on_chunk: Callable[[int], None]
                ) -> Iterable[bytes]:
    """Yield ``path`` in :data:`CHUNK`-sized pieces, with a cancellation checkpoint each."""
    with path.open("rb") as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                return
            worker.checkpoint()  # once per chunk read: the delay models the read's latency
            on_chunk(len(block))
            yield block


class _Progress:
    """Percent of a known number of bytes, emitted only when the integer percent moves."""

    def __init__(self, worker: DemoWorker, total: int) -> None:
        self._worker = worker
        self._total = max(1, total)
        self._done = 0
        self._last = -1
        self.label = ""

    def add(self, n: int) -> None:
        self._done += n
        percent = min(100, self._done * 100 // self._total)
        if percent != self._last:
            self._last = percent
            self._worker.progress.emit(percent, self.label)


def _total_size(paths: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def chunks_of(sizes: Iterable[int]) -> int:
    """How many :data:`CHUNK` reads files of ``sizes`` take (a checkpoint each)."""
    return sum(-(-size // CHUNK) for size in sizes)


class HashWorker(DemoWorker):
    """Hashes files with several algorithms in one read of each file.

    Result: ``{path: {algorithm: hex digest}}``.
    """

    #: One file done: its path and ``{algorithm: hex digest}``.
    file_hashed = Signal(str, object)

    def __init__(self, paths: Sequence[Path], algorithms: Sequence[str] = ALGORITHMS, *,
                 io_delay_s: float = 0.0) -> None:
        super().__init__(io_delay_s=io_delay_s)
        unknown = [a for a in algorithms if a not in hashlib.algorithms_available]
        if unknown or not algorithms:
            raise ValueError(f"unknown or no hash algorithms: {unknown or 'none given'}")
        self.paths = list(paths)
        self.algorithms = list(algorithms)

    def work(self) -> dict[str, dict[str, str]]:
        results: dict[str, dict[str, str]] = {}
        progress = _Progress(self, _total_size(self.paths))
        for path in self.paths:
            progress.label = path.name
            hashers = [hashlib.new(a) for a in self.algorithms]
            for block in read_chunks(path, self, progress.add):
                for h in hashers:
                    h.update(block)
            digests = {a: h.hexdigest() for a, h in zip(self.algorithms, hashers, strict=True)}
            results[str(path)] = digests
            self.file_hashed.emit(str(path), digests)
        return results


class CopyVerifyWorker(DemoWorker):
    """Copies files into a directory, hashing them on the way, then reads each copy back.

    A copy is good when the copy's digest equals the source's (and ``expected[source]``,
    when given: digests taken earlier, as a forensic workflow does). A cancelled copy
    removes its partial file, so a case directory never holds a truncated exhibit.
    Result: a :class:`CopyReport`.
    """

    #: One file done: source path, the copy's digest, and whether it verified.
    file_verified = Signal(str, str, bool)

    def __init__(self, paths: Sequence[Path], destination: Path, algorithm: str = "sha256",
                 expected: dict[str, str] | None = None, *, io_delay_s: float = 0.0) -> None:
        super().__init__(io_delay_s=io_delay_s)
        self.paths = list(paths)
        self.destination = destination
        self.algorithm = algorithm
        self.expected = dict(expected or {})

    def work(self) -> CopyReport:
        report = CopyReport(self.algorithm)
        # Every byte is read twice: once to copy, once to verify.
        progress = _Progress(self, 2 * _total_size(self.paths))
        self.destination.mkdir(parents=True, exist_ok=True)
        for path in self.paths:
            target = self.destination / path.name
            progress.label = f"copying {path.name}"
            source_hash = hashlib.new(self.algorithm)
            try:
                with target.open("wb") as out:
                    for block in read_chunks(path, self, progress.add):
                        source_hash.update(block)
                        out.write(block)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            shutil.copystat(path, target)  # evidence keeps its timestamps
            progress.label = f"verifying {path.name}"
            copy_hash = hashlib.new(self.algorithm)
            for block in read_chunks(target, self, progress.add):
                copy_hash.update(block)
            src, dst = source_hash.hexdigest(), copy_hash.hexdigest()
            ok = src == dst and self.expected.get(str(path), src) == src
            report.copies.append(VerifiedCopy(path, target, src, dst, ok))
            self.file_verified.emit(str(path), dst, ok)
        return report


#: The image readers thumbnail workers share by default: ``ResourcePool`` keeps a few idle
#: readers for the next job instead of building a reader per image. Pass a pool of your own
#: to ``ThumbnailWorker`` to keep them apart (tests do).
IMAGE_READERS: ResourcePool[QImageReader] = ResourcePool(QImageReader, max_size=4)


class ThumbnailWorker(DemoWorker):
    """Loads images and scales them to thumbnails (``QImage`` is safe off the GUI thread;
    ``QPixmap`` is not, so the GUI converts). Result: how many thumbnails were made.

    A job leases one ``QImageReader`` from ``readers`` (:data:`IMAGE_READERS` by default)
    and reads every image with it; the reader goes back to the pool, holding no file, when
    the job ends however it ends.
    """

    #: One thumbnail: the image's path (the cache key) and the thumbnail.
    thumbnail_ready = Signal(str, QImage)

    def __init__(self, paths: Sequence[Path], size: int = 128, *, io_delay_s: float = 0.0,
                 readers: ResourcePool[QImageReader] | None = None) -> None:
        super().__init__(io_delay_s=io_delay_s)
        self.paths = list(paths)
        self.size = size
        self.readers = IMAGE_READERS if readers is None else readers

    def work(self) -> int:
        with self.readers.lease() as reader:
            try:
                return self._thumbnails(reader)
            finally:
                reader.setFileName("")  # an idle reader keeps no image file open

    def _thumbnails(self, reader: QImageReader) -> int:
        made = 0
        for index, path in enumerate(self.paths, start=1):
            self.checkpoint()
            reader.setFileName(str(path))
            image = reader.read()
            if not image.isNull():
                thumb = image.scaled(self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
                self.thumbnail_ready.emit(str(path), thumb)
                made += 1
            self.progress.emit(index * 100 // max(1, len(self.paths)), path.name)
        return made
