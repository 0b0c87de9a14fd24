"""The forensic workflow: one job that chains hashing, copy & verify and thumbnails.

Each step runs in a worker this controller owns; a step starts when the previous one
completed, the copy is verified against the digests the hashing step took, and the job ends
with a JSON report in the case directory. Cancelling (or closing the tab) stops the step that
runs and the chain with it.
"""

from __future__ import annotations

import itertools
import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Unpack

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QImage

from inspector.resources import Result

from ..dataset import Dataset
from ..workers import (
    CopyReport,
    CopyVerifyWorker,
    DemoWorker,
    HashWorker,
    JobOutcome,
    Status,
    ThumbnailWorker,
)
from .base import QUEUED, JobController, JobOptions, TrackedThumbnails

#: The algorithm a case is documented with.
CASE_ALGORITHM = "sha256"
#: Report thumbnails are small: they illustrate a report, they are not for viewing.
REPORT_THUMBNAIL = 96


class Step(StrEnum):
    """The steps of a forensic job, in order."""

    HASH = "hash"
    COPY = "copy & verify"
    THUMBNAILS = "thumbnails"
    REPORT = "report"


STEPS: tuple[Step, ...] = tuple(Step)


class ForensicWorkflowController(JobController):
    """Runs the forensic job over the data set into a new case directory each time."""

    #: A step's state changed: the step and ``running``, ``done``, ``cancelled`` or ``failed``.
    step_changed = Signal(str, str)
    #: A line for the job's log.
    log_line = Signal(str)
    #: The job ended: its status and the report's path (or the error).
    workflow_finished = Signal(str, str)

    _cases = itertools.count(1)

    def __init__(self, dataset: Dataset, **options: Unpack[JobOptions]) -> None:
        super().__init__(dataset, **options)
        # The report's illustrations: bounded by the number of images, released per job.
        self.gallery = TrackedThumbnails(self, max_entries=max(1, len(dataset.images)),
                                         max_bytes=8 * 1024 * 1024)
        self.case_dir: Path | None = None
        self.report_path: Path | None = None
        self._step: Step | None = None
        self._hashes: dict[str, str] = {}
        self._copy: CopyReport | None = None

    @property
    def step(self) -> Step | None:
        """The step that runs now, or None."""
        return self._step

    def start(self) -> Result[str]:
        """Start a job in a new case directory; the value is the case's name."""
        if self.busy:
            return Result.failure("a forensic job is already running")
        self.case_dir = self.dataset.case_dir(f"case-{next(self._cases):03d}")
        self.report_path = None
        self.gallery.clear()
        self._hashes = {}
        self._copy = None
        self.log_line.emit(f"case {self.case_dir.name}: {len(self.dataset.files)} files")
        self._run(Step.HASH)
        return Result.success(self.case_dir.name)

    def cleanup(self) -> int:
        """Stop the running step (the chain stops with it) and release everything."""
        step, self._step = self._step, None
        released = super().cleanup()
        if step is not None:
            self.step_changed.emit(step, Status.CANCELLED)
            self.workflow_finished.emit(Status.CANCELLED, "stopped by cleanup")
        return released

    def _run(self, step: Step) -> None:
        self._step = step
        self.step_changed.emit(step, "running")
        assert self.case_dir is not None
        worker: DemoWorker
        if step is Step.HASH:
            hasher = HashWorker(self.dataset.paths, (CASE_ALGORITHM,), io_delay_s=self.io_delay_s)
            hasher.file_hashed.connect(self._on_file_hashed, QUEUED)
            worker = hasher
        elif step is Step.COPY:
            copier = CopyVerifyWorker(self.dataset.paths, self.case_dir / "evidence",
                                      CASE_ALGORITHM, expected=self._hashes,
                                      io_delay_s=self.io_delay_s)
            copier.file_verified.connect(self._on_file_verified, QUEUED)
            worker = copier
        else:
            thumbnailer = ThumbnailWorker(self.dataset.images, REPORT_THUMBNAIL,
                                          io_delay_s=self.io_delay_s)
            thumbnailer.thumbnail_ready.connect(self._on_thumbnail, QUEUED)
            worker = thumbnailer
        self._launch(worker, f"workflow-{step.name.lower()}")

    def _job_ended(self, outcome: JobOutcome) -> None:
        step = self._step
        if step is None:
            return
        if outcome.status is not Status.DONE:
            self._step = None
            self.step_changed.emit(step, outcome.status)
            self.log_line.emit(f"{step}: {outcome.status} {outcome.error}".rstrip())
            self.workflow_finished.emit(outcome.status, outcome.error)
            return
        if step is Step.HASH and isinstance(outcome.result, dict):
            self._hashes = {p: d[CASE_ALGORITHM] for p, d in outcome.result.items()}
        elif step is Step.COPY and isinstance(outcome.result, CopyReport):
            self._copy = outcome.result
        self.step_changed.emit(step, Status.DONE)
        following = STEPS[STEPS.index(step) + 1]
        if following is not Step.REPORT:
            self._run(following)
            return
        self._step = None
        self.step_changed.emit(Step.REPORT, "running")
        try:
            self.report_path = self._write_report()
        except OSError as exc:
            self.step_changed.emit(Step.REPORT, Status.FAILED)
            self.workflow_finished.emit(Status.FAILED, str(exc))
            return
        self.step_changed.emit(Step.REPORT, Status.DONE)
        self.log_line.emit(f"report: {self.report_path}")
        self.workflow_finished.emit(Status.DONE, str(self.report_path))

    def _write_report(self) -> Path:
        # A few kilobytes: written on the GUI thread, unlike the steps that read megabytes.
        assert self.case_dir is not None
        copies = {str(c.source): c for c in (self._copy.copies if self._copy else [])}
        report = {
            "case": self.case_dir.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "algorithm": CASE_ALGORITHM,
            "files": [
                {"name": f.path.name, "kind": f.kind, "size": f.size,
                 "digest": self._hashes.get(str(f.path), ""),
                 "copy_verified": bool(copies.get(str(f.path)) and copies[str(f.path)].ok)}
                for f in self.dataset.files
            ],
            "thumbnails": len(self.gallery.cache),
        }
        path = self.case_dir / "report.json"
        path.write_text(json.dumps(report, indent=2), encoding="utf-8")
        return path

    @Slot(str, object)
    def _on_file_hashed(self, path: str, digests: object) -> None:
        if self._step is Step.HASH and isinstance(digests, dict):
            self.log_line.emit(f"hashed {Path(path).name}: {digests[CASE_ALGORITHM][:16]}…")

    @Slot(str, str, bool)
    def _on_file_verified(self, path: str, digest: str, ok: bool) -> None:
        if self._step is Step.COPY:
            state = "verified" if ok else "MISMATCH"
            self.log_line.emit(f"copied {Path(path).name}: {state}")

    @Slot(str, QImage)
    def _on_thumbnail(self, path: str, image: QImage) -> None:
        if self._step is Step.THUMBNAILS:
            self.gallery.add(Path(path).name, image)
