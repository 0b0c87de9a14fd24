"""Media analysis: thumbnails made in worker threads, kept in a bounded LRU cache."""

from __future__ import annotations

from typing import Unpack

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QImage

from inspector.resources import Result

from ..dataset import Dataset
from ..workers import ThumbnailWorker
from .base import QUEUED, JobController, JobOptions, TrackedThumbnails

#: Thumbnails kept at most (each size of each image is an entry of its own).
CACHE_ENTRIES = 12
CACHE_BYTES = 2 * 1024 * 1024


def thumbnail_key(path: str, size: int) -> str:
    """The cache key of ``path``'s thumbnail at ``size`` pixels."""
    return f"{path}@{size}"


class MediaAnalysisController(JobController):
    """Generates thumbnails of the data set's images into a bounded LRU cache it owns.

    Every cached thumbnail is tracked as a THUMBNAIL with its byte size; one evicted to
    make room is released at once, so the inspector's cache figures follow the cache.
    """

    #: A thumbnail entered the cache: its key and image (the tab makes its own pixmap).
    thumbnail_added = Signal(str, QImage)
    #: A thumbnail left the cache.
    thumbnail_evicted = Signal(str)
    #: The cache now holds this many entries and bytes.
    cache_changed = Signal(int, int)

    def __init__(self, dataset: Dataset, *, cache_entries: int = CACHE_ENTRIES,
                 cache_bytes: int = CACHE_BYTES, **options: Unpack[JobOptions]) -> None:
        super().__init__(dataset, **options)
        self.thumbnails = TrackedThumbnails(self, max_entries=cache_entries,
                                            max_bytes=cache_bytes)
        self._size = 128

    def start(self, size: int = 128) -> Result[str]:
        """Make ``size``-pixel thumbnails of every image; the value is the job id."""
        if self.busy:
            return Result.failure("thumbnails are already being made")
        images = self.dataset.images
        if not images:
            return Result.failure("the data set has no images")
        self._size = size
        worker = ThumbnailWorker(images, size, io_delay_s=self.io_delay_s)
        worker.thumbnail_ready.connect(self._on_thumbnail, QUEUED)
        return Result.success(self._launch(worker, "thumbnails"))

    def clear_cache(self) -> int:
        """Empty the cache; return how many thumbnails it dropped."""
        keys = self.thumbnails.cache.ordered_keys()
        dropped = self.thumbnails.clear()
        for key in keys:
            self.thumbnail_evicted.emit(key)
        self.cache_changed.emit(0, 0)
        return dropped

    def cleanup(self) -> int:
        """Stop the workers and release the cache with everything else."""
        keys = self.thumbnails.cache.ordered_keys()
        released = super().cleanup()  # the cache's cleanup has emptied it
        for key in keys:
            self.thumbnail_evicted.emit(key)
        self.cache_changed.emit(0, 0)
        return released

    @Slot(str, QImage)
    def _on_thumbnail(self, path: str, image: QImage) -> None:
        if not self.busy:  # a late thumbnail of a job stopped by a cleanup
            return
        key = thumbnail_key(path, self._size)
        for evicted in self.thumbnails.add(key, image):
            self.thumbnail_evicted.emit(evicted)
        self.thumbnail_added.emit(key, image)
        cache = self.thumbnails.cache
        self.cache_changed.emit(len(cache), cache.size_bytes)
