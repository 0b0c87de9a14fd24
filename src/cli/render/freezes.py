"""Freezes: ``resinspect hangs``, ``resinspect dump``, the verdict on an
application that cannot answer, and the "Freezes" section of ``top``. They never print.

Stacks, frames and thread names come from the application: every one goes through
:func:`inspector.metrics.text.safe` before it is shown (JSON output keeps them exact).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from cli.render.table import Col, KeyedTable
from inspector.metrics.text import safe
from inspector.metrics.units import format_duration, format_ms

if TYPE_CHECKING:
    from inspector.metrics.hangs import StallReport
    from inspector.metrics.snapshot import Hang, Snapshot

#: Stalls shown with their "where" tree in ``resinspect hangs`` (all are in the table).
DETAILED_STALLS = 5
#: Entries of a stall's "where" shown.
WHERE_ROWS = 8


def _clock(unix: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(unix)) if unix > 0 else "?"


def _get(hang: Any, name: str, default: Any = None) -> Any:
    """A field of a hang as a struct (snapshots) or a dict (the ``hangs`` reply)."""
    if isinstance(hang, Mapping):
        return hang.get(name, default)
    return getattr(hang, name, default)


def top_function(hang: Any) -> str:
    """The function a stall spent most time in, as its where list says (its innermost frame
    among those with the most time), else its stack's innermost frame."""
    stack: Sequence[str] = _get(hang, "stack", []) or []
    if stack:
        return str(stack[-1])
    where = _get(hang, "where", []) or []
    return str(_get(where[0], "frame", "?")) if where else "?"


def _where_rows(hang: Any, limit: int = WHERE_ROWS) -> list[Text]:
    """A stall's ``where`` as lines: callers before callees, each indented by its depth."""
    entries = list(_get(hang, "where", []) or [])[:limit]
    duration = float(_get(hang, "duration_ms", 0.0) or 0.0)
    # Callers first: by depth, then most time; each line says its share of the stall.
    entries.sort(key=lambda e: (int(_get(e, "depth", 0) or 0), -float(_get(e, "ms", 0.0))))
    lines = []
    for entry in entries:
        ms = float(_get(entry, "ms", 0.0) or 0.0)
        share = f"{100.0 * ms / duration:3.0f}%" if duration > 0 else "   ?"
        indent = "  " * min(int(_get(entry, "depth", 0) or 0), 12)
        line = Text(f"    {format_ms(ms):>7} {share}  {indent}", style="dim")
        line.append(safe(_get(entry, "frame", "")), style="")
        lines.append(line)
    return lines


def render_hangs(reply: Mapping[str, Any], app: str = "", pid: int = 0) -> RenderableType:
    """``resinspect hangs``: whole-run totals, the table of recent stalls, where the time of
    the newest went, and the whole run's totals by top function."""
    hangs = list(reply.get("hangs", []))
    count = int(reply.get("count", 0))
    threshold = float(reply.get("threshold_ms", 0.0) or 0.0)
    head = Text.assemble(
        (safe(app) or "application", "bold cyan"), f"  pid {pid}  " if pid else "  ",
        f"{count} stall{'s' if count != 1 else ''} over {format_ms(threshold)} since start",
    )
    if count:
        head.append(f", {format_ms(float(reply.get('total_ms', 0.0)))} in all, longest "
                    f"{format_ms(float(reply.get('max_ms', 0.0)))}")
    parts: list[RenderableType] = [head]
    stalled = float(reply.get("stalled_ms", 0.0) or 0.0)
    if stalled > threshold > 0:
        parts.append(Text(f"The GUI thread is stalled now, for {format_ms(stalled)} so far.",
                          style="bold red"))
    parts.append(Text(""))
    rows: list[list[str | Text]] = []
    for hang in hangs:
        rows.append([
            _clock(float(_get(hang, "started", 0.0))),
            format_ms(float(_get(hang, "duration_ms", 0.0))),
            str(_get(hang, "samples", 0)),
            Text("native", style="yellow") if _get(hang, "native", False) else Text(""),
            safe(top_function(hang)),
        ])
    kept = len(hangs)
    footer = f"{count - kept} earlier stalls are counted but no longer kept" \
        if count > kept else ""
    parts.append(KeyedTable(
        f"Recent stalls ({kept}, newest last)",
        [Col("Started"), Col("Duration", "right"), Col("Samples", "right"), Col("GIL"),
         Col("Where most time went", wrap=True)],
        rows, empty="none recorded", footer=footer))
    if hangs:
        parts += [Text(""), Text("Where the time went (newest first)", style="bold")]
        for hang in reversed(hangs[-DETAILED_STALLS:]):
            parts.append(Text(f"  {_clock(float(_get(hang, 'started', 0.0)))}  "
                              f"{format_ms(float(_get(hang, 'duration_ms', 0.0)))}"
                              f"{'  (native code held the GIL)' if _get(hang, 'native') else ''}",
                              style="bold"))
            parts += _where_rows(hang) or [Text("    (no stack could be read)", style="dim")]
    by_function = list(reply.get("by_function", []))
    if by_function:
        parts += [Text(""), KeyedTable(
            "Whole run, by function",
            [Col("Function"), Col("Stalls", "right"), Col("Time", "right")],
            [[safe(e.get("frame", "")), str(e.get("count", 0)), format_ms(float(e.get("ms", 0)))]
             for e in by_function[:10]])]
    return Group(*parts)


def render_dump(reply: Mapping[str, Any]) -> RenderableType:
    """``resinspect dump``: every thread's stack, innermost last, the GUI thread first."""
    parts: list[RenderableType] = []
    for thread in reply.get("threads", []):
        parts.append(_thread_title(thread))
        stack = thread.get("stack") or []
        if stack:
            parts += [Text("    " + safe(frame), overflow="fold") for frame in stack]
        else:
            parts.append(Text("    (no Python frame)", style="dim"))
        parts.append(Text(""))
    if not parts:
        parts.append(Text("no threads", style="dim"))
    return Group(*parts)


def _thread_title(thread: Mapping[str, Any]) -> Text:
    title = Text("Thread ", style="bold")
    title.append(safe(thread.get("name", "")), style="bold cyan")
    details = []
    kind = str(thread.get("kind", ""))
    if thread.get("gui"):
        details.append("GUI thread")
    elif kind == "qthread":
        details.append(f"QThread {safe(thread.get('qthread', ''))}")
    elif kind == "python":
        details.append("Python thread")
    elif kind == "native":
        details.append("not started by Python")
    if thread.get("component"):
        details.append(f"worker of {safe(thread['component'])}")
    if thread.get("native_id"):
        details.append(f"native id {thread['native_id']}")
    if details:
        title.append(f"  ({', '.join(details)})", style="dim")
    return title


def render_not_answering(report: StallReport, verdict: str) -> RenderableType:
    """The red panel for an application that cannot answer: the verdict, then what the stall
    watchdog read of every thread without the GIL, the stuck thread first."""
    holder, _name = report.holder()
    lines: list[RenderableType] = [Text(safe(verdict))]
    order = sorted(report.stacks, key=lambda ident: (ident != holder,
                                                     ident != report.gui_thread))
    for ident in order:
        name = report.names.get(ident) or f"0x{ident:x} (not started by Python)"
        lines.append(Text(f"Thread {safe(name)}{'  (holds the GIL)' if ident == holder else ''}"
                          ", innermost last:", style="bold"))
        stack = report.stacks[ident]
        lines += [Text("  " + safe(f), overflow="fold") for f in stack] or [
            Text("  (no Python frame)", style="dim")]
    return Panel(Group(*lines), title="NOT ANSWERING", title_align="left",
                 border_style="bold red")


def freezes_section(snapshot: Snapshot, rows: int = 3) -> RenderableType:
    """The "Freezes" lines of ``top``: whole-run totals and the newest stalls."""
    title = Text("Freezes", style="bold")
    if not snapshot.hang_count:
        title.append(f"  none over {format_ms(snapshot.hang_threshold_ms)} since start",
                     style="dim")
        return title
    title.append(f"  {snapshot.hang_count} over {format_ms(snapshot.hang_threshold_ms)}, "
                 f"{format_ms(snapshot.hang_total_ms)} in all, longest "
                 f"{format_ms(snapshot.hang_max_ms)}")
    lines: list[RenderableType] = [title]
    recent: list[Hang] = list(snapshot.hangs[-rows:])
    for hang in reversed(recent):
        ago = max(0.0, snapshot.timestamp - hang.started)
        line = Text(f"  {_clock(hang.started)}  {format_ms(hang.duration_ms):>7}  "
                    f"{format_duration(ago)} ago  ", style="")
        line.append(safe(top_function(hang)), style="yellow" if hang.native else "")
        line.overflow = "fold"
        lines.append(line)
    return Group(*lines)
