"""The demo's thumbnail worker: real QThreads, its image readers pooled by ResourcePool."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QImageReader

from inspector.demo.dataset import Dataset
from inspector.demo.workers import IMAGE_READERS, JobOutcome, Status, ThumbnailWorker
from inspector.resources import ResourcePool

from .conftest import wait_for


def run(worker: ThumbnailWorker) -> tuple[JobOutcome, dict[str, QImage]]:
    """Run ``worker`` on its thread to the end: its outcome and thumbnails."""
    outcomes: list[JobOutcome] = []
    thumbs: dict[str, QImage] = {}
    worker.outcome.connect(outcomes.append)
    worker.thumbnail_ready.connect(thumbs.__setitem__)
    worker.start()
    wait_for(lambda: outcomes, timeout=20.0)
    assert worker.wait(10_000)
    return outcomes[0], thumbs


def test_jobs_share_one_pooled_reader_and_make_the_same_thumbnails(dataset: Dataset) -> None:
    pool: ResourcePool[QImageReader] = ResourcePool(QImageReader, max_size=2)
    first, thumbs = run(ThumbnailWorker(dataset.images, 64, readers=pool))
    assert first.status is Status.DONE
    assert first.result == len(dataset.images) == len(thumbs)
    path = dataset.images[0]
    by_hand = QImage(str(path)).scaled(64, 64, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
    assert thumbs[str(path)] == by_hand  # what the worker made before it pooled readers

    second, _ = run(ThumbnailWorker(dataset.images[:2], 64, readers=pool))
    assert second.result == 2
    stats = pool.statistics
    assert (stats.misses, stats.hits, stats.idle, stats.in_use) == (1, 1, 1, 0)
    with pool.lease() as reader:
        assert reader.fileName() == ""  # an idle reader holds no image file open


def test_a_cancelled_job_gives_its_reader_back(dataset: Dataset) -> None:
    pool: ResourcePool[QImageReader] = ResourcePool(QImageReader, max_size=2)
    worker = ThumbnailWorker(dataset.images, 64, readers=pool)
    worker.cancel()  # stops at its first checkpoint, after leasing its reader
    outcome, thumbs = run(worker)
    assert outcome.status is Status.CANCELLED
    assert thumbs == {}
    stats = pool.statistics
    assert (stats.misses, stats.in_use, stats.idle) == (1, 0, 1)


def test_workers_use_the_shared_pool_unless_given_one(dataset: Dataset) -> None:
    assert ThumbnailWorker(dataset.images).readers is IMAGE_READERS
    before = IMAGE_READERS.statistics
    outcome, _ = run(ThumbnailWorker(dataset.images[:1], 32))
    assert outcome.status is Status.DONE
    after = IMAGE_READERS.statistics
    assert after.hits + after.misses == before.hits + before.misses + 1
    assert after.in_use == before.in_use
