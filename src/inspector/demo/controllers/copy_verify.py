"""Copy & verify: evidence copied into a case directory and read back to prove the copy."""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import Signal, Slot

from inspector.resources import Result

from ..workers import CopyReport, CopyVerifyWorker, JobOutcome, Status
from .base import QUEUED, JobController


class CopyVerifyController(JobController):
    """Copies the data set into a fresh case directory per job and verifies every copy."""

    #: One file done: source path, the copy's digest, whether it verified.
    file_verified = Signal(str, str, bool)

    _numbers = itertools.count(1)

    #: The report of the last job that completed, if any.
    last_report: CopyReport | None = None
    #: Where the current (or last) job copies to.
    destination: Path | None = None

    def start(self, algorithm: str = "sha256") -> Result[str]:
        """Copy and verify every file; the value is the job id."""
        if self.busy:
            return Result.failure("a copy is already running")
        self.destination = self.dataset.case_dir(f"copy-{next(self._numbers):03d}")
        worker = CopyVerifyWorker(self.dataset.paths, self.destination, algorithm,
                                  io_delay_s=self.io_delay_s)
        worker.file_verified.connect(self._on_file_verified, QUEUED)
        return Result.success(self._launch(worker, "copy-verify"))

    @Slot(str, str, bool)
    def _on_file_verified(self, path: str, digest: str, ok: bool) -> None:
        if self.busy:
            self.file_verified.emit(path, digest, ok)

    def _job_ended(self, outcome: JobOutcome) -> None:
        if outcome.status is Status.DONE and isinstance(outcome.result, CopyReport):
            self.last_report = outcome.result
