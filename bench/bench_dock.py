"""Benchmark the InspectorDock against a bare pyqtgraph figure with the same plots.

Measured, offscreen, in one process:

* ``refresh``: the CPU time (``time.process_time``) of one dock refresh — read the source,
  update summary, plots and tables, and paint — against one update + paint of a bare
  ``GraphicsLayoutWidget`` with the same four plots, the same curves (both twin axes
  included) and the same 600 points per curve, at the same size. The two are timed
  alternately, round by round, so drift hits both alike; medians are reported. Goal: the
  dock costs at most 1.2x the bare figure.
  ``bare_tuned`` is the same figure with the dock's one plotting trick (ranges settled
  before the paint, one paint per update instead of two): ``ratio_vs_tuned`` is what the
  dock's summary, tables and bookkeeping cost on top of the plots themselves.
* ``refresh_with_markers``: the same with lifecycle markers in view (extra items the bare
  figure does not have); ``unchanged_ms``: a refresh whose data did not change.
* ``cpu``: CPU % of the process while the dock runs at its default interval (1000 ms) for
  a few seconds, then while it is hidden (goal: < 5 % of one core, and no refresh at all
  while hidden); ``visible_real_model`` is the same over the real MetricsModel, sampler
  thread included, for the whole cost an application pays.

Results go to ``bench/results/dock.json``. Run: ``.venv/bin/python bench/bench_dock.py``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication

from _harness import quiet_offscreen, record
from inspector.metrics.snapshot import (
    ComponentStats,
    History,
    LeakSuspect,
    Marker,
    ResourceEntry,
    ResourcePage,
    Snapshot,
    TypeStats,
    WorkerInfo,
)
from inspector.ui import InspectorDock

POINTS = 600
TYPES = ("worker", "cache", "thumbnail", "qobject")
PLOT_SIZE = (900, 560)


# -- synthetic data -----------------------------------------------------------------------


def make_histories(count: int, markers: int) -> list[History]:
    """``count`` successive 600-point windows of a 1 Hz history, one sample apart."""
    total = POINTS + count
    t = [float(i) for i in range(total)]

    def wave(period: float, base: float, amp: float, k: int = 0) -> list[float]:
        return [base + amp * math.sin(i / period + k) + (i % 7) * amp * 0.02
                for i in range(total)]

    rss = [int(v) for v in wave(37, 120e6, 20e6)]
    tracked = [int(v) for v in wave(23, 5e6, 2e6)]
    live = [int(v) for v in wave(17, 400, 150)]
    workers = [int(v) for v in wave(11, 4, 3)]
    cache = [int(v) for v in wave(29, 3e6, 1e6)]
    lag = [abs(v) for v in wave(5, 0, 30)]
    by_type = {name: [int(v) for v in wave(13 + k, 100, 60, k)] for k, name in enumerate(TYPES)}
    all_markers = [
        Marker(t=float(i), kind=("registered", "cleaned_up", "destroyed")[i % 3],
               component_id=f"Component{i}")
        for i in range(0, total, max(1, POINTS // markers))
    ] if markers else []
    out = []
    for k in range(count):
        s = slice(k, k + POINTS)
        lo, hi = t[k], t[k + POINTS - 1]
        out.append(History(
            t=t[s], rss_bytes=rss[s], tracked_bytes=tracked[s], live_resources=live[s],
            active_workers=workers[s], cache_bytes=cache[s], event_loop_lag_ms=lag[s],
            live_by_type={name: col[s] for name, col in by_type.items()},
            markers=[m for m in all_markers if lo <= m.t <= hi],
        ))
    return out


def make_snapshots(count: int, components: int = 200) -> list[Snapshot]:
    """Snapshots in which a few components, the suspects' and workers' ages change."""
    out = []
    for k in range(count):
        comps = [
            ComponentStats(id=f"Component{i}", type="tab", live=10 + i % 5,
                           bytes=1000 * i + (k * 37 if i % 20 == 0 else 0), alive=True)
            for i in range(components)
        ]
        out.append(Snapshot(
            pid=1, app="bench", timestamp=1e9 + k, uptime_s=float(k), created_total=1000 + k,
            destroyed_total=600, live_resources=400 + k % 9, tracked_bytes=5_000_000 + k,
            peak_tracked_bytes=7_000_000, rss_bytes=120_000_000 + 4096 * k,
            peak_rss_bytes=150_000_000, active_workers=3, cache_bytes=3_000_000,
            cache_entries=40, event_loop_lag_ms=float(k % 5), gui_stack=[],
            by_type={n: TypeStats(live=100, created=200, destroyed=100, bytes=10_000)
                     for n in TYPES},
            components=comps,
            leak_suspects=[
                LeakSuspect(component_id=f"Component{i}", resource_type="cache",
                            resource_id=f"r{i}", reason="retained_after_cleanup",
                            age_s=10.0 + k)
                for i in range(10)
            ],
            workers=[
                WorkerInfo(resource_id=f"w{i}", component_id=f"Component{i}", running=True,
                           age_s=5.0 + k, type_name="QThread")
                for i in range(5)
            ],
            seq=k,
        ))
    return out


class CyclingSource:
    """A MetricsSource that steps through prepared data, one step per ``snapshot()``."""

    def __init__(self, snapshots: list[Snapshot], histories: list[History]) -> None:
        self.snapshots = snapshots
        self.histories = histories
        self.i = 0

    def snapshot(self) -> Snapshot:
        self.i += 1
        return self.snapshots[self.i % len(self.snapshots)]

    def history(self) -> History:
        return self.histories[self.i % len(self.histories)]

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        items = [ResourceEntry(resource_id=f"{component_id}-{i}", component_id=component_id or "",
                               resource_type="cache", size_bytes=100, age_s=1.0, thread_id=1,
                               type_name="bytes", alive=True) for i in range(20)]
        return ResourcePage(total=len(items), offset=offset, items=items)


class FrozenSource(CyclingSource):
    """Always the same data: what a refresh costs when nothing changed."""

    def snapshot(self) -> Snapshot:
        return self.snapshots[0]

    def history(self) -> History:
        return self.histories[0]


# -- the reference: a bare pyqtgraph figure -----------------------------------------------


class BareFigure:
    """The dock's four plots written plainly: same curves, axes, legends; nothing else.

    ``tuned`` adds the one trick the dock's plots use (settling ranges before the paint, so
    each update paints once instead of twice): the dock's overhead over an equally tuned
    figure is then what remains.
    """

    def __init__(self, tuned: bool = False) -> None:
        self.tuned = tuned
        self.win = pg.GraphicsLayoutWidget()
        self.curves: dict[str, Any] = {}
        p1 = self.win.addPlot(row=0, col=0, title="memory")
        p2 = self.win.addPlot(row=0, col=1, title="live resources by type")
        p3 = self.win.addPlot(row=1, col=0, title="active workers · cache")
        p4 = self.win.addPlot(row=1, col=1, title="event-loop lag")
        for p in (p1, p2, p3, p4):
            p.setLabel("bottom", "t", units="s")
            p.addLegend()
            if p is not p1:
                p.setXLink(p1)
        self.curves["rss"] = p1.plot(pen="#42a5f5", name="RSS")
        self.curves["tracked"] = self._twin(p1, "#ffa726", "tracked")
        for name in TYPES:
            self.curves[name] = p2.plot(pen="#66bb6a", name=name)
        self.curves["workers"] = p3.plot(pen="#42a5f5", name="workers")
        self.curves["cache"] = self._twin(p3, "#ff7043", "cache")
        self.curves["lag"] = p4.plot(pen="#ef5350")

    @staticmethod
    def _twin(plot: Any, colour: str, name: str) -> Any:
        view = pg.ViewBox()
        plot.showAxis("right")
        plot.scene().addItem(view)
        plot.getAxis("right").linkToView(view)
        view.setXLink(plot)
        curve = pg.PlotDataItem(pen=colour)
        view.addItem(curve)
        plot.legend.addItem(curve, name)

        def sync() -> None:
            view.setGeometry(plot.vb.sceneBoundingRect())
            view.linkedViewChanged(plot.vb, view.XAxis)

        plot.vb.sigResized.connect(sync)
        return curve

    def update(self, h: History) -> None:
        c = self.curves
        c["rss"].setData(h.t, h.rss_bytes)
        c["tracked"].setData(h.t, h.tracked_bytes)
        for name in TYPES:
            c[name].setData(h.t, h.live_by_type[name])
        c["workers"].setData(h.t, h.active_workers)
        c["cache"].setData(h.t, h.cache_bytes)
        c["lag"].setData(h.t, h.event_loop_lag_ms)
        if self.tuned:
            self.win.scene().prepareForPaint()


# -- measuring ----------------------------------------------------------------------------


class PaintCounter(QObject):
    """Counts paint events of a widget, to prove each timed round really painted."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def flush(app: QApplication) -> None:
    """Let Qt deliver the queued scene updates and paint them (two passes: the scene's
    ``changed`` notification is itself queued)."""
    app.processEvents()
    app.processEvents()


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def run_for(app: QApplication, seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def timed(fn: Callable[[], None], app: QApplication) -> float:
    t0 = time.process_time()
    fn()
    flush(app)
    return time.process_time() - t0


def bench_refresh(app: QApplication, rounds: int, markers: int) -> dict[str, Any]:
    histories = make_histories(rounds + 5, markers)
    snapshots = make_snapshots(rounds + 5)
    source = CyclingSource(snapshots, histories)
    dock = InspectorDock(source)
    dock.pause()  # timed refreshes are called directly; the timer must not add any
    dock.resize(PLOT_SIZE[0], PLOT_SIZE[1] + 420)
    dock.show()
    flush(app)
    bare, tuned = BareFigure(), BareFigure(tuned=True)
    for fig in (bare, tuned):
        fig.win.resize(dock.plots.size())
        fig.win.show()
    flush(app)
    counters = {name: PaintCounter() for name in ("dock", "bare", "bare_tuned")}
    dock.plots.viewport().installEventFilter(counters["dock"])
    bare.win.viewport().installEventFilter(counters["bare"])
    tuned.win.viewport().installEventFilter(counters["bare_tuned"])

    for k in range(3):  # warm up all three: first paints build caches and glyphs
        dock.refresh()
        bare.update(histories[k])
        tuned.update(histories[k])
        flush(app)
    times: dict[str, list[float]] = {name: [] for name in counters}
    paints0 = {name: c.paints for name, c in counters.items()}
    for k in range(rounds):
        h = histories[(k + 3) % len(histories)]
        contenders: list[tuple[str, Callable[[], None]]] = [
            ("dock", dock.refresh),
            ("bare", partial(bare.update, h)),
            ("bare_tuned", partial(tuned.update, h)),
        ]
        shift = k % 3  # rotate the order so drift and cache effects hit all alike
        for name, fn in contenders[shift:] + contenders[:shift]:
            times[name].append(timed(fn, app))
    paints = {name: (c.paints - paints0[name]) / rounds for name, c in counters.items()}

    dock.set_source(FrozenSource(snapshots, histories))
    dock.refresh()
    flush(app)
    unchanged = [timed(dock.refresh, app) for _ in range(rounds)]

    med = {name: statistics.median(samples) for name, samples in times.items()}
    result = {
        "markers_in_view": len(histories[0].markers),
        "dock_ms": median_ms(times["dock"]),
        "bare_ms": median_ms(times["bare"]),
        "bare_tuned_ms": median_ms(times["bare_tuned"]),
        "ratio": round(med["dock"] / med["bare"], 3),
        "ratio_vs_tuned": round(med["dock"] / med["bare_tuned"], 3),
        "unchanged_ms": median_ms(unchanged),
        "paints_per_refresh": paints,
        "plot_size": [dock.plots.width(), dock.plots.height()],
    }
    for w in (dock, bare.win, tuned.win):
        w.close()
        w.deleteLater()
    flush(app)
    return result


def bench_cpu(app: QApplication, seconds: float) -> dict[str, Any]:
    histories = make_histories(50, 10)
    source = CyclingSource(make_snapshots(50), histories)
    dock = InspectorDock(source)  # default interval: 1000 ms
    dock.resize(PLOT_SIZE[0], PLOT_SIZE[1] + 420)
    dock.show()
    flush(app)
    run_for(app, 1.2)  # let the first refreshes and paints settle

    n0, c0, w0 = dock.refresh_count, time.process_time(), time.perf_counter()
    run_for(app, seconds)
    visible = {
        "seconds": round(time.perf_counter() - w0, 2),
        "refreshes": dock.refresh_count - n0,
        "cpu_percent": round(100 * (time.process_time() - c0) / (time.perf_counter() - w0), 2),
        "interval_ms": dock.interval_ms,
    }
    dock.hide()
    flush(app)
    n0, c0, w0 = dock.refresh_count, time.process_time(), time.perf_counter()
    calls0 = source.i
    run_for(app, seconds)
    hidden = {
        "seconds": round(time.perf_counter() - w0, 2),
        "refreshes": dock.refresh_count - n0,
        "source_calls": source.i - calls0,
        "cpu_percent": round(100 * (time.process_time() - c0) / (time.perf_counter() - w0), 2),
    }
    dock.deleteLater()
    flush(app)
    return {"visible": visible, "hidden": hidden}


def bench_cpu_real_model(app: QApplication, seconds: float) -> dict[str, Any]:
    """The same at the default rate over the real MetricsModel (sampler thread running) with
    200 components of 10 resources each: what an application pays in all, model included."""
    from inspector.metrics import MetricsModel
    from inspector.resources import ResourceManagementService, ResourceType

    class Owner:
        pass

    class Blob:
        pass

    # Typed Any: MetricsModel is annotated with the ABC, which the service joins only by
    # virtual registration (invisible to mypy).
    service: Any = ResourceManagementService()
    owners = [Owner() for _ in range(200)]
    blobs = [Blob() for _ in range(2000)]
    for i, owner in enumerate(owners):
        service.register_component(owner, f"Component{i}")
        for j in range(10):
            kind = (ResourceType.CACHE, ResourceType.THUMBNAIL, ResourceType.CUSTOM)[j % 3]
            service.track_resource(owner, kind, blobs[i * 10 + j], 1000 + j)
    model = MetricsModel(service, app="bench")
    model.start()
    dock = InspectorDock(model)
    dock.resize(PLOT_SIZE[0], PLOT_SIZE[1] + 420)
    dock.show()
    flush(app)
    run_for(app, 1.2)
    n0, c0, w0 = dock.refresh_count, time.process_time(), time.perf_counter()
    run_for(app, seconds)
    result = {
        "seconds": round(time.perf_counter() - w0, 2),
        "refreshes": dock.refresh_count - n0,
        "cpu_percent": round(100 * (time.process_time() - c0) / (time.perf_counter() - w0), 2),
        "components": len(owners),
        "resources": len(blobs),
    }
    dock.deleteLater()
    flush(app)
    model.close()
    service.cleanup_all()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--cpu-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)

    quiet_offscreen()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    refresh = bench_refresh(app, args.rounds, markers=0)
    with_markers = bench_refresh(app, args.rounds, markers=10)
    cpu = bench_cpu(app, args.cpu_seconds)
    cpu["visible_real_model"] = bench_cpu_real_model(app, args.cpu_seconds)
    figures: dict[str, Any] = {
        "what": "median process_time of one refresh incl. paint, offscreen; dock vs a bare "
                "pyqtgraph figure with the same 2x2 plots, curves and 600 points per curve",
        "rounds": args.rounds,
        "points_per_curve": POINTS,
        "curves": 5 + len(TYPES),
        "refresh": refresh,
        "refresh_with_markers": with_markers,
        "cpu": cpu,
        "pyqtgraph": pg.__version__,
    }
    hidden = cpu["hidden"]["refreshes"] + cpu["hidden"]["source_calls"]
    ok = record("dock", figures, {
        "one refresh, dock / bare figure": (refresh["ratio"], "<=", 1.2),
        "CPU % of a core, visible at the default interval":
            (cpu["visible"]["cpu_percent"], "<=", 5.0),
        "refreshes and source reads while hidden": (hidden, "<=", 0),
    })
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
