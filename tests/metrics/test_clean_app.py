"""A clean application raises no suspect: heavy churn, an LRU cache at its cap, long-running
workers of live controllers. The real model and sampler, at 4x pace (samples every 0.25 s,
growth buckets of 0.5 s), for 15 s: the 60 samples of a minute at the default pace."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from PySide6.QtCore import QCoreApplication, QObject, QThread

from inspector.metrics import MetricsModel
from inspector.metrics.suspects import SuspectPolicy
from inspector.resources import (
    BaseResourceCoordinator,
    ResourceManagementService,
    ResourceType,
    WorkerResourceCoordinator,
)

SAMPLES = 60
PACE_S = 0.25


class Entry:
    def __init__(self, size: int) -> None:
        self.data = bytearray(size)


class Owner(QObject):
    def __init__(self, cid: str, service: ResourceManagementService,
                 workers: bool = False) -> None:
        super().__init__()
        kind = WorkerResourceCoordinator if workers else BaseResourceCoordinator
        self.resources = kind(cid, service).bind_to_component(self)


class Poller(QThread):
    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self.stop = stop

    def cancel(self) -> None:
        self.stop.set()

    def run(self) -> None:
        self.stop.wait(60)


def test_a_clean_app_raises_nothing_over_a_minute_of_samples(
        service: ResourceManagementService) -> None:
    policy = SuspectPolicy(retained_after_s=1.0, orphan_grace_s=0.25, growth_window_s=0.5,
                           confirm_after_s=1.0)
    model = MetricsModel(service, app="clean", sample_interval_s=PACE_S, policy=policy)
    stop = threading.Event()
    viewer = Owner("Viewer#1", service)
    lru_owner = Owner("ThumbnailCache#1", service)
    loaders = [Owner(f"Loader#{n}", service, workers=True) for n in (1, 2)]
    workers = [Poller(stop) for _ in loaders]
    for owner, worker in zip(loaders, workers, strict=True):
        assert isinstance(owner.resources, WorkerResourceCoordinator)
        owner.resources.track_worker(worker, name="poll")
        worker.start()
    lru: OrderedDict[int, tuple[Entry, str]] = OrderedDict()
    model.start()
    raised = []
    try:
        began = time.monotonic()
        n = 0
        while time.monotonic() - began < SAMPLES * PACE_S:
            # Heavy churn: 200 short-lived entries a turn, tracked and released.
            batch = [Entry(1000) for _ in range(200)]
            rids = [viewer.resources.track(e, ResourceType.CACHE, size_bytes=1000).resource_id
                    for e in batch]
            for rid in rids:
                viewer.resources.release(rid)
            # An LRU cache of 50 thumbnails: fills in its first turns, then evicts.
            for _ in range(10):
                n += 1
                entry = Entry(2000)
                rid = lru_owner.resources.track(entry, ResourceType.THUMBNAIL,
                                                size_bytes=2000).resource_id
                lru[n] = (entry, rid)
                if len(lru) > 50:
                    _, (_, old) = lru.popitem(last=False)
                    lru_owner.resources.release(old)
            QCoreApplication.processEvents()
            raised.extend(model.snapshot().leak_suspects)
            time.sleep(0.05)
        assert raised == []
        assert model.snapshot().active_workers == 2
    finally:
        stop.set()
        for worker in workers:
            worker.wait(5000)
        model.close()
