"""The server's loop: one ``selectors`` loop on a daemon thread serves every client through
non-blocking sockets, so a slow or stalled client can hold up neither another client nor the
application. It knows no method: lines go to a dispatcher, replies come back as bytes.

* requests are read into a per-client buffer of at most one line (1 MiB); at most
  :data:`LINES_PER_TURN` are answered per client per turn, so a flooding client cannot starve
  the others;
* a request the dispatcher defers runs on the helper thread; the asking client's later lines
  wait for its reply, so replies stay in request order;
* a subscription push that falls due while the client still has unsent bytes is skipped and
  counted (``seq`` and ``dropped`` in every push make gaps visible): a client that is behind
  gets the newest state when it catches up, not a backlog of stale ones;
Who gets a connection is :mod:`inspector.server.admission`'s; queues and flow control are
:mod:`inspector.server.connections`'.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable

from .admission import Admission
from .connection import READ_CHUNK, Connection
from .connections import Connections, Limits
from .dispatch import Deferred, Dispatcher
from .offloop import OffLoop
from .protocol import LINE_TOO_LONG, MAX_LINE, encode_error, encode_push
from .ratelimit import RateLimitedLog

log = logging.getLogger("inspector.server")

#: Requests answered per client per loop turn (fairness between clients).
LINES_PER_TURN = 64


class Transport:
    """Serves ``listener``'s connections with ``dispatcher`` on a thread of its own.

    ``pushes`` makes a subscription push's payload (called at most once per loop turn that has
    a push due); ``new_turn`` runs at the start of every turn. ``counters`` is shared with the
    caller, which reports it.
    """

    def __init__(self, listener: socket.socket, dispatcher: Dispatcher, *,
                 pushes: Callable[[], bytes], new_turn: Callable[[], None],
                 limits: Limits, counters: dict[str, int], uid: int) -> None:
        self.listener = listener
        self.dispatcher = dispatcher
        self.limits = limits
        self.counters = counters
        self._pushes = pushes
        self._new_turn = new_turn
        self._uid = uid
        self._warn = RateLimitedLog()
        self._sel = selectors.DefaultSelector()
        self.conns = Connections(self._sel, limits, counters, self._warn)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._sel.register(listener, selectors.EVENT_READ, "listen")
        self.offloop: OffLoop[Connection] = OffLoop(self.wake)
        self.admission = Admission(listener, self._sel, self.conns, limits=limits,
                                   counters=counters, warn=self._warn, uid=uid)
        self._push_failed = False
        self._stop = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the loop thread."""
        self._thread = threading.Thread(target=self._run, name="resinspect-server",
                                        daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Have the loop look at finished off-loop replies (any thread)."""
        with contextlib.suppress(OSError):  # full: a wake-up is pending anyway
            self._wake_w.send(b"x")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and the helper thread, close every connection and the wake-up pair
        (the listener is the caller's); idempotent."""
        if self._stopped:
            return
        self._stopped = self._stop = True
        self.wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.offloop.stop(timeout)
        for sock in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                sock.close()
        if not self.running:
            with contextlib.suppress(Exception):
                self._sel.close()

    # -- the loop -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop:
                events = self._sel.select(self._timeout())
                self._new_turn()
                for key, mask in events:
                    if key.data == "wake":
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(4096)
                        self._apply_done()
                    elif key.data == "listen":
                        self.admission.accept()
                    else:
                        self._service(key.data, mask)
                for conn in list(self.conns.busy):
                    self._guarded(conn, self._process_lines)
                now = time.monotonic()
                self._push_due(now)
                self.conns.drop_stalled(now)
                self.admission.close_idle(now)
                self.admission.resume(now)
                self.conns.give_memory_back()
        except Exception:  # the app keeps running; only the inspector's socket goes away
            log.exception("resinspect server stopped after an unexpected error")
        finally:
            self.conns.close_all()
            self._sel.close()

    def _timeout(self) -> float | None:
        if self.conns.busy:
            return 0.0
        now = time.monotonic()
        deadlines = []
        for conn in self.conns.clients.values():
            if conn.session.interval is not None:
                deadlines.append(conn.session.next_push)
            if conn.out:
                deadlines.append(conn.last_progress + self.limits.stall_timeout)
            if not conn.requests:
                deadlines.append(conn.connected + self.limits.idle_timeout)
        if self.admission.paused_until:
            deadlines.append(self.admission.paused_until)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    def _service(self, conn: Connection, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._guarded(conn, self.conns.flush)
        if mask & selectors.EVENT_READ and conn.open:
            self._guarded(conn, self._read)

    def _guarded(self, conn: Connection, step: Callable[[Connection], None]) -> None:
        """Run one client's step; a bug there drops that client, never the server."""
        try:
            step(conn)
        except Exception as exc:
            log.exception("resinspect: error serving %s", conn.label)
            self.conns.drop(conn, f"internal error: {exc!r}")

    # -- reading and answering ------------------------------------------------------------

    def _read(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.conns.close(conn, f"read failed: {exc.strerror}")
            return
        if not data:
            conn.eof = True
        elif conn.closing:
            return  # a fatal request was answered; what follows is discarded unread
        else:
            conn.inbuf += data
        self._process_lines(conn)

    def _process_lines(self, conn: Connection) -> None:
        busy = self.conns.busy
        if not conn.open:  # dropped meanwhile (another client's reply, say)
            busy.discard(conn)
            return
        buf = conn.inbuf
        start = 0
        handled = 0
        # Busy while answering, so that a reply flushed at once cannot close a client that
        # has shut down its side before the rest of its requests are answered.
        busy.add(conn)
        while handled < LINES_PER_TURN and not conn.closing and not conn.pending and conn.open:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            stop = end - 1 if end > start and buf[end - 1] == 13 else end  # CRLF too
            length = stop - start
            # A view, not a copy: the decoder reads the line where it lies, so a client's
            # 1 MiB line costs the server its buffer and nothing more.
            line = memoryview(buf)[start:stop]
            start = end + 1
            handled += 1
            if length > MAX_LINE:
                line.release()
                self._line_too_long(conn)
                break
            self._answer(conn, line)
        if not conn.open:
            return
        del buf[:start]
        if (not conn.closing and not conn.pending and len(buf) > MAX_LINE
                and b"\n" not in buf):  # (while pending, reading stops at the limit anyway)
            self._line_too_long(conn)
        if not conn.closing and not conn.pending and b"\n" in buf:
            busy.add(conn)
        else:
            busy.discard(conn)
        self.conns.finish_or_wait(conn)

    def _line_too_long(self, conn: Connection) -> None:
        # The rest of the line cannot be found without reading up to the next newline, which
        # a hostile client may never send: answer once and close.
        conn.inbuf.clear()
        conn.closing = True
        self.conns.busy.discard(conn)
        conn.session.unsubscribe()
        self.counters["errors"] += 1
        self.conns.queue(conn, encode_error(None, LINE_TOO_LONG,
                                            f"line longer than {MAX_LINE} bytes; closing"))

    def _answer(self, conn: Connection, line: memoryview) -> None:
        """Answer one request line (a view into the client's buffer, released by then)."""
        self.counters["requests"] += 1
        conn.requests += 1
        conn.last_active = time.monotonic()
        reply = self.dispatcher.answer(conn.session, line)
        if isinstance(reply, Deferred):
            conn.pending = True  # its later lines wait, others do not
            self.offloop.submit(conn, reply)
        else:
            self.conns.queue(conn, reply)

    def _apply_done(self) -> None:
        for conn, reply in self.offloop.finished():
            conn.pending = False
            if not self.conns.holds(conn):
                continue  # it went away meanwhile
            self.conns.queue(conn, reply)
            if conn.open and b"\n" in conn.inbuf and not conn.closing:
                self.conns.busy.add(conn)  # its next lines waited for this reply
            elif conn.open:
                self.conns.finish_or_wait(conn)

    # -- subscriptions --------------------------------------------------------------------

    def _push_due(self, now: float) -> None:
        for conn in list(self.conns.clients.values()):
            session = conn.session
            interval = session.interval
            if interval is None or session.next_push > now:
                continue
            session.seq += 1
            if conn.out_bytes:
                # Still behind: a stale snapshot would only put it further behind.
                session.dropped += 1
            else:
                try:
                    data = self._pushes()
                except Exception:
                    if not self._push_failed:
                        self._push_failed = True
                        log.exception("resinspect: the model failed to take a snapshot for a "
                                      "push")
                    session.dropped += 1
                else:
                    self.conns.queue(conn, encode_push(data, session.seq, session.dropped))
            session.next_push += interval
            if session.next_push <= now:
                session.next_push = now + interval  # after a stall, no burst of catch-up pushes
