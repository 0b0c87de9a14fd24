"""The helper thread that answers requests the loop must not wait for (``stacks``, ``why``).

Reading the GUI thread's stack waits for that thread to run a signal handler, up to 100 ms when
its event loop is idle in C++, which the loop must not spend once per request (a client
pipelining 64 of them stalled every other client for 6 s); ``why`` walks the heap for up to
2 s. The loop hands such a request here with :meth:`OffLoop.submit` and keeps serving the
others; the reply comes back through :meth:`OffLoop.finished` after a wake-up call. Every
request of a ``shared`` method waiting when the thread gets to it is answered by one run, so a
newcomer waits for at most two readings of the stacks however many clients pipeline them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from .dispatch import Deferred, encode_reply, error_reply, result_reply

log = logging.getLogger("inspector.server")

#: Whoever waits for a reply (the transport's connection); opaque here.
Owner = TypeVar("Owner")


class OffLoop(Generic[Owner]):
    """One helper thread, started on first use; ``wake`` is called after each batch."""

    def __init__(self, wake: Callable[[], None], name: str = "resinspect-stacks") -> None:
        self._wake = wake
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Owner, Deferred] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[Owner, bytes]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, owner: Owner, job: Deferred) -> None:
        """Run ``job`` on the helper thread; its reply goes to :meth:`finished`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        self._jobs.put((owner, job))

    def finished(self) -> Iterator[tuple[Owner, bytes]]:
        """The replies made since the last call, in the order they were made."""
        while True:
            try:
                yield self._done.get_nowait()
            except queue.Empty:
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread after the batch it is on; idempotent."""
        self._stopping = True
        thread = self._thread
        if thread is not None:
            self._jobs.put(None)
            if thread is not threading.current_thread():
                thread.join(timeout)

    def _serve(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None or self._stopping:
                return
            # Every request waiting now is one batch: served one by one, a client behind 60
            # others pipelining ``stacks`` waited 4.5 s for its own.
            batch = [first]
            while True:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    return
                batch.append(more)
            self._answer(batch)
            self._wake()

    def _answer(self, batch: list[tuple[Owner, Deferred]]) -> None:
        shared: dict[str, list[tuple[Owner, Deferred]]] = {}
        for owner, job in batch:
            if job.handler.shared:
                shared.setdefault(job.method, []).append((owner, job))
            else:  # a `why`: each walks the heap for its own object
                self._done.put((owner, result_reply(job.request_id, job.run)[0]))
        for jobs in shared.values():
            self._answer_all(jobs)

    def _answer_all(self, jobs: list[tuple[Owner, Deferred]]) -> None:
        """One run of a shared method answers every request in ``jobs``."""
        result: Any = None
        failure: Exception | None = None
        try:
            result = jobs[0][1].run()
        except Exception as exc:
            log.exception("resinspect: request failed")
            failure = exc
        for owner, job in jobs:
            if failure is None:
                try:
                    reply = encode_reply(job.request_id, result)
                except Exception as exc:
                    log.exception("resinspect: request failed")
                    failure = exc
            if failure is not None:
                reply = error_reply(job.request_id, failure)
            self._done.put((owner, reply))
