"""What the headless demo prints: a ``resinspect top`` frame of itself, then what it did."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .dataset import Dataset
from .workload import WorkloadReport

if TYPE_CHECKING:
    from .screenshots import TopRenderer

_REASONS = ("orphan_worker", "growth", "retained_after_cleanup")


def print_summary(report: WorkloadReport, dataset: Dataset, screenshots: Path | None,
                  out: TextIO, renderer: TopRenderer | None = None) -> None:
    """Print the final ``top`` frame (as ``resinspect top`` prints it to ``out``, when given
    its ``renderer``) and a few lines on what the tour did and what the inspector found."""
    from .screenshots import frame_width

    if report.final is not None and renderer is not None:
        console = renderer.console(out)
        if not console.is_terminal:  # like `top`, wide enough for whole ids and details
            console.width = max(console.width, frame_width(report.final, renderer))
        console.print(renderer.frame(report.final))
    for line in summary_lines(report, dataset, screenshots):
        print(line, file=out)
    out.flush()


def summary_lines(report: WorkloadReport, dataset: Dataset, screenshots: Path | None
                  ) -> list[str]:
    """The lines after the frame (plain ASCII: a pipe may not take anything else)."""
    mib = dataset.total_bytes / 2**20
    lines = [
        "",
        f"What the demo did in {report.seconds:g} s:",
        f"  - generated {len(dataset.files)} evidence files ({mib:.1f} MiB) in {dataset.root}"
        " (removed at exit)",
    ]
    if report.outcomes:
        jobs = ", ".join(f"{title} {status}" for title, status in report.outcomes)
        lines.append(f"  - jobs: {jobs}")
    if report.evicted:
        lines.append(f"  - the thumbnail cache evicted {report.evicted} thumbnails "
                     "(each released as it left)")
    if report.tabs_closed:
        left = report.left_tracked_by_tabs
        lines.append(f"  - closed {report.tabs_closed} tabs: {report.released_by_tabs} "
                     f"resources released, {left} left tracked by their controllers")
    if report.blocked_s:
        where = report.gui_stack[-1] if report.gui_stack else "no stack captured"
        lines.append(f"  - blocked the GUI thread for {report.blocked_s:.1f} s: another thread "
                     f"saw {report.lag_seen_ms / 1000:.1f} s of lag, GUI stack ending in {where}")
    lines += _planted_lines(report)
    if screenshots is not None and report.screenshots:
        names = ", ".join(p.name for p in report.screenshots)
        lines.append(f"  - screenshots in {screenshots}: {names} (log: demo.log)")
    return lines


def _planted_lines(report: WorkloadReport) -> list[str]:
    """One line per planted defect: whether the inspector reported it."""
    lines = []
    for reason in _REASONS:
        owner = report.planted.get(reason)
        if owner is None:
            continue
        found = owner in report.suspects_of(reason)
        verdict = "reported" if found else "not reported yet"
        extra = ""
        if reason == "growth":
            extra = f", {report.grown_frames} thumbnails so far"
            if not found:
                verdict += " (it needs about 3 s of growth: try --seconds 8 or more)"
        lines.append(f"  - planted {reason} in {owner}{extra}: {verdict}")
    owner = report.planted.get("teardown_error")
    if owner is not None:
        seen = report.teardown_error()
        lines.append(f"  - planted a failing cleanup callback in {owner}: " + (
            f"the teardown audit shows {seen[1]}" if seen else "no audit seen"))
    return lines
