"""Hashing: digests of every evidence file, several algorithms in one read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from PySide6.QtCore import Signal, Slot

from inspector.resources import Result

from ..dataset import Dataset
from ..workers import ALGORITHMS, HashWorker, JobOutcome, Status
from .base import QUEUED, JobController, JobOptions


class HashController(JobController):
    """Hashes the data set's files in a worker; keeps the last complete result."""

    #: One file done: its path and ``{algorithm: hex digest}``.
    file_hashed = Signal(str, object)

    #: ``{path: {algorithm: hex digest}}`` of the last job that completed.
    results: dict[str, dict[str, str]]

    def __init__(self, dataset: Dataset, **options: Unpack[JobOptions]) -> None:
        super().__init__(dataset, **options)
        self.results = {}

    def start(self, algorithms: Sequence[str] = ALGORITHMS) -> Result[str]:
        """Hash every file with ``algorithms``; the value is the job id."""
        if self.busy:
            return Result.failure("a hashing job is already running")
        try:
            worker = HashWorker(self.dataset.paths, algorithms, io_delay_s=self.io_delay_s)
        except ValueError as exc:
            return Result.failure(str(exc))
        worker.file_hashed.connect(self._on_file_hashed, QUEUED)
        return Result.success(self._launch(worker, "hash"))

    @Slot(str, object)
    def _on_file_hashed(self, path: str, digests: object) -> None:
        if self.busy:
            self.file_hashed.emit(path, digests)

    def _job_ended(self, outcome: JobOutcome) -> None:
        if outcome.status is Status.DONE and isinstance(outcome.result, dict):
            self.results = outcome.result
