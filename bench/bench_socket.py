"""Benchmark a snapshot round trip through InspectorServer against a bare AF_UNIX echo.

Measured in one process, client and servers on their own threads, medians of calls
interleaved one at a time in rotating order (so drift and thread wake-up regimes hit every
case alike):

* ``bare``: a plain thread server that answers each request line with a precomputed reply
  of exactly the bytes the inspector sends for a snapshot: the floor for moving those bytes.
* ``server_transport``: InspectorServer over a source whose snapshot is already encoded:
  the server's own work (selector loop, request parsing, dispatch, framing, non-blocking
  send). Goal: at most 2x ``bare``.
* ``server_cached``: the same over one prebuilt Snapshot, so the server also encodes it
  (msgspec, ``Snapshot.to_json()``) per request, but no counters are read.
* ``server_live``: InspectorServer over a real MetricsModel: ``model.snapshot()`` included.
* ``client_live``: the same through ``InspectorClient.snapshot()`` (typed decode included),
  what ``resinspect snapshot`` pays.
* ``model_only``: ``model.snapshot().to_json()`` in-process, no socket, for reference.

Each is run with the main thread idle, blocked in ``time.sleep`` (a frozen GUI thread) and
busy in a pure-Python loop (a GUI thread computing; it holds the GIL for up to the 5 ms switch
interval at a time, which every case pays, bare included).

Results go to ``bench/results/socket.json``. Run: ``.venv/bin/python bench/bench_socket.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

import msgspec
import PySide6
from PySide6.QtCore import QCoreApplication

from _harness import load_average, turned
from inspector.metrics import History, MetricsModel, ResourcePage, Snapshot
from inspector.resources import ResourceManagementService, ResourceType
from inspector.server import InspectorServer
from inspector.server.client import InspectorClient
from inspector.server.protocol import encode_request, encode_result

ROOT = Path(__file__).resolve().parent
REQUEST = encode_request(1, "snapshot")
GOAL = 2.0


class _Owner:
    pass


class _Blob:
    pass


class CachedSource:
    """One prebuilt snapshot: isolates the server's work from the model's."""

    def __init__(self, model: MetricsModel) -> None:
        self.app = model.app
        self._snap = model.snapshot()
        self._model = model

    def snapshot(self) -> Snapshot:
        return self._snap

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        return self._model.resources(offset, limit, component_id)

    def history(self) -> History:
        return self._model.history()


class _Encoded:
    """Stands in for a Snapshot whose JSON is already made."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def to_json(self) -> bytes:
        return self._data


class EncodedSource(CachedSource):
    """One snapshot encoded once: what is left is the server's own work."""

    def __init__(self, cached: CachedSource) -> None:
        super().__init__(cached._model)
        self._encoded = _Encoded(cached.snapshot().to_json())

    def snapshot(self) -> Snapshot:
        return self._encoded  # type: ignore[return-value]


def populate(service: ResourceManagementService, components: int, per_component: int
             ) -> list[object]:
    """Components with resources, kept alive by the returned list."""
    keep: list[object] = []
    types = (ResourceType.CACHE, ResourceType.THUMBNAIL, ResourceType.FILE_HANDLE,
             ResourceType.MEMORY)
    for i in range(components):
        owner = _Owner()
        service.register_component(owner, f"tab-{i // 10}.panel-{i:04d}", "controller")
        keep.append(owner)
        for j in range(per_component):
            blob = _Blob()
            service.track_resource(owner, types[j % len(types)], blob, size_bytes=1024 * j)
            keep.append(blob)
    return keep


class BareServer:
    """Answers every request line with ``reply``: the cost of moving the bytes, nothing else."""

    def __init__(self, path: Path, reply: bytes) -> None:
        self.path = path
        self.reply = reply
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    _, _, buf = buf.partition(b"\n")
                    conn.sendall(self.reply)

    def close(self) -> None:
        self.listener.close()
        self.path.unlink(missing_ok=True)


class RawClient:
    """Request line out, reply line in; no decoding (the same client for bare and server)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.buf = bytearray()

    def round_trip(self) -> int:
        self.sock.sendall(REQUEST)
        buf = self.buf
        while True:
            end = buf.find(b"\n")
            if end >= 0:
                del buf[:end + 1]
                return end
            buf += self.sock.recv(1 << 20)

    def close(self) -> None:
        self.sock.close()


def timed(fn: Callable[[], object], n: int) -> list[float]:
    """``n`` calls of ``fn``, each in microseconds."""
    out = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        fn()
        out.append((clock() - t0) * 1e6)
    return out


def run_cases(cases: dict[str, Callable[[], object]], rounds: int, per_round: int,
              warmup: int) -> dict[str, list[float]]:
    """``rounds * per_round`` timed calls of each case, interleaved one call at a time in
    an order that rotates: a round trip's time depends on how fast the other thread wakes
    (which core, how idle it was), and in blocks of a hundred calls per case those regimes
    landed on one case and not another (a bare median of 47 us in one block, 127 in the next)."""
    for fn in cases.values():
        timed(fn, warmup)
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    clock = time.perf_counter
    for index in range(rounds * per_round):
        for name in turned(names, index):
            fn = cases[name]
            t0 = clock()
            fn()
            samples[name].append((clock() - t0) * 1e6)
    return samples


def with_main_thread(mode: str, work: Callable[[], dict[str, list[float]]]
                     ) -> dict[str, list[float]]:
    """Run ``work`` on a helper thread while the main thread is idle, asleep or busy."""
    if mode == "idle":
        return work()
    result: dict[str, dict[str, list[float]]] = {}
    worker = threading.Thread(target=lambda: result.setdefault("r", work()))
    worker.start()
    if mode == "blocked":
        while worker.is_alive():
            time.sleep(0.5)  # a frozen GUI thread: in a blocking call
    else:
        while worker.is_alive():
            sum(i * i for i in range(2000))  # a busy GUI thread: holding the GIL
    worker.join()
    return result["r"]


def summarise(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_us": round(statistics.median(ordered), 1),
            "p90_us": round(ordered[int(len(ordered) * 0.9)], 1),
            "n": len(ordered)}


def bench_size(components: int, per_component: int, rounds: int, per_round: int,
               runtime: Path) -> dict[str, Any]:
    service = ResourceManagementService()
    keep = populate(service, components, per_component)
    model = MetricsModel(service, app="bench")
    model.start()
    model.sample()
    cached = CachedSource(model)
    snapshot_json = cached.snapshot().to_json()
    reply = encode_result(1, msgspec.Raw(snapshot_json))

    runtime = runtime / f"n{components}"
    runtime.mkdir(mode=0o700)
    bare = BareServer(runtime / "bare.sock", reply)
    # Servers in one process need a runtime directory each (the socket is <pid>.sock).
    srv_encoded = InspectorServer(EncodedSource(cached), runtime_dir=runtime / "e").start()
    srv_cached = InspectorServer(cached, runtime_dir=runtime / "a").start()
    srv_live = InspectorServer(model, runtime_dir=runtime / "b").start()
    clients = {"bare": RawClient(bare.path),
               "server_transport": RawClient(srv_encoded.path),
               "server_cached": RawClient(srv_cached.path),
               "server_live": RawClient(srv_live.path)}
    full = InspectorClient(srv_live.path)
    assert clients["server_transport"].round_trip() == len(reply) - 1
    try:
        cases: dict[str, Callable[[], object]] = {
            name: c.round_trip for name, c in clients.items()}
        cases["client_live"] = full.snapshot
        cases["model_only"] = lambda: model.snapshot().to_json()
        results: dict[str, Any] = {}
        for mode in ("idle", "blocked", "busy"):
            samples = with_main_thread(
                mode, lambda: run_cases(cases, rounds, per_round, warmup=30))
            stats = {name: summarise(s) for name, s in samples.items()}
            floor = stats["bare"]["median_us"]
            for s in stats.values():
                s["x_bare"] = round(s["median_us"] / floor, 2)
            results[mode] = stats
    finally:
        full.close()
        for c in clients.values():
            c.close()
        srv_encoded.close()
        srv_cached.close()
        srv_live.close()
        bare.close()
        model.close()
        service.cleanup_all()
        del keep
    return {"components": components, "resources": components * per_component,
            "snapshot_bytes": len(snapshot_json), "reply_bytes": len(reply),
            "modes": results}


def print_table(result: dict[str, Any]) -> None:
    print(f"\n{result['components']} components, {result['resources']} resources, "
          f"snapshot {result['snapshot_bytes'] / 1024:.1f} KiB")
    print(f"{'case':<18}{'main thread':<13}{'median µs':>11}{'p90 µs':>10}{'x bare':>8}")
    for mode, stats in result["modes"].items():
        for name, s in stats.items():
            print(f"{name:<18}{mode:<13}{s['median_us']:>11.1f}{s['p90_us']:>10.1f}"
                  f"{s['x_bare']:>8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000",
                        help="component counts to run, comma separated (10 resources each)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=100)
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "results" / "socket.json")
    args = parser.parse_args()

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    runtime = Path(tempfile.mkdtemp(prefix="rib-", dir="/tmp"))
    runtime.chmod(0o700)
    runs = []
    for n in args.sizes.split(","):
        runs.append(bench_size(int(n), 10, args.rounds, args.per_round, runtime))
        # Collect on the thread that owns the service's QObject: left to the cyclic GC it
        # may be freed on a measuring thread ("Timers cannot be stopped from another thread").
        gc.collect()
    for run in runs:
        print_table(run)

    def worst(case: str) -> float:
        return float(max(run["modes"][m][case]["x_bare"]
                         for run in runs for m in ("idle", "blocked")))

    transport, cached_x = worst("server_transport"), worst("server_cached")
    verdict = "met" if transport <= GOAL else "MISSED"
    print(f"\nserver overhead, idle or blocked main thread (worst of all sizes): "
          f"server_transport {transport:.2f}x bare (goal <= {GOAL:.0f}x: {verdict}); "
          f"with snapshot encoding (server_cached) {cached_x:.2f}x")
    report = {
        "benchmark": "socket",
        "goal": f"server_transport <= {GOAL}x bare (median, idle or blocked main thread)",
        "worst_server_transport_x_bare": transport,
        "worst_server_cached_x_bare": cached_x,
        "goal_met": transport <= GOAL,
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "runs": runs,
        "load_average": load_average(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    del app
    return 0 if transport <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
