"""One stall's samples merged into a :class:`~inspector.metrics.snapshot.Hang`.

How the time of a stall is split: each sample stands for the time from it to the next one
(the stack seen persists until the next look). Time the monitor could not observe - it was
itself waiting for the GIL - goes to the watchdog's dump when one was taken then, else to the
sample before the gap (the frame that entered the native call), else it is reported as a
pseudo-frame saying no Python stack could be read. Frames every sample shares (``main``,
``exec``) are the stall's trunk; ``where`` starts at the deepest of them.

A stall's start is estimated: the heartbeat knows only that the loop last turned at ``b0``
and turned again at ``e``; the stall began somewhere in the beat interval after ``b0``, so
``start = b0 + interval / 2`` and durations are exact to half a beat interval - unless the
stall was spent computing, when the GUI thread's CPU time dates it (:func:`stall_start`).
"""

from __future__ import annotations

from ..snapshot import Hang, HangFrame
from .frames import common_prefix, format_frame, function_key, parse_frame

#: The pseudo-frame for time no Python stack could be read in.
UNOBSERVED = "(native code held the GIL: no Python stack could be read)"
#: Entries of a stall's ``where``.
WHERE_SIZE = 20


def merge_stall(start: float, end: float, wall_start: float,
                points: list[tuple[float, tuple[str, ...], bool]],
                dump: tuple[list[str], float] | None = None,
                base: tuple[str, ...] = ()) -> Hang:
    """One :class:`Hang` from a stall's samples (see the module docstring for the rules).

    ``points`` are ``(monotonic time, stack innermost last, late)``; ``late`` marks a sample
    taken after a stretch the monitor could not observe. ``dump`` is the watchdog's stack of
    the GUI thread and when it was taken. ``base`` is the stack under the event loop (the
    frames that called ``exec()``), left out of ``where``.
    """
    seen = [(t, stack, late, False) for t, stack, late in points
            if start <= t <= end and stack]
    samples = len(seen)
    if dump is not None and dump[0] and start <= dump[1] <= end:
        seen.append((dump[1], tuple(dump[0]), False, True))
        seen.sort(key=lambda p: p[0])
    weights: dict[tuple[str, ...], float] = {}
    unobserved = 0.0
    blind = 0.0  # time seen only by the watchdog, or not at all: native code held the GIL
    if not seen:
        unobserved = blind = end - start
    else:
        lead = seen[0][0] - start
        if seen[0][2]:
            unobserved += lead
            blind += lead
        else:
            weights[seen[0][1]] = lead
            blind += lead if seen[0][3] else 0.0
        for index, (t, sampled, _late, watchdog) in enumerate(seen):
            following = seen[index + 1] if index + 1 < len(seen) else None
            span = max(0.0, (following[0] if following is not None else end) - t)
            weights[sampled] = weights.get(sampled, 0.0) + span
            if watchdog or (following is not None and following[2]):
                blind += span
    duration = end - start
    where = _where(weights, unobserved, base)
    stack: tuple[str, ...] = ()
    if weights:
        best = max(weights.items(), key=lambda item: item[1])
        if best[1] >= unobserved:
            stack = best[0]
    return Hang(started=round(wall_start, 3), duration_ms=round(duration * 1000.0, 1),
                stack=list(stack), where=where, samples=samples,
                native=blind > 0.5 * duration)


def _where(weights: dict[tuple[str, ...], float], unobserved: float,
           loop_base: tuple[str, ...] = ()) -> list[HangFrame]:
    stacks = [s for s, w in weights.items() if w > 0]
    if loop_base and all(s[:len(loop_base)] == loop_base for s in stacks):
        base = len(loop_base)  # what runs under the event loop: the callbacks and below
    else:
        base = max(0, common_prefix([[function_key(f) for f in s] for s in stacks]) - 1)
    by_key: dict[tuple[str, str], float] = {}
    lines: dict[tuple[str, str], dict[int, float]] = {}
    depth: dict[tuple[str, str], int] = {}
    for stack in stacks:
        w = weights[stack]
        counted: set[tuple[str, str]] = set()
        for index, text in enumerate(stack[base:]):
            name, filename, line = parse_frame(text)
            key = (name, filename)
            per_line = lines.setdefault(key, {})
            per_line[line] = per_line.get(line, 0.0) + w
            if key in counted:  # recursion: a sample counts once per function
                continue
            counted.add(key)
            by_key[key] = by_key.get(key, 0.0) + w
            depth[key] = min(depth.get(key, index), index)
    out = [HangFrame(frame=format_frame((k[0], k[1], max(lines[k].items(),
                                                          key=lambda i: i[1])[0])),
                     ms=round(w * 1000.0, 1), depth=depth[k])
           for k, w in by_key.items()]
    if unobserved > 0:
        out.append(HangFrame(frame=UNOBSERVED, ms=round(unobserved * 1000.0, 1)))
    out.sort(key=lambda f: (-f.ms, -f.depth))  # a tie: the callee is the more precise answer
    return [f for f in out[:WHERE_SIZE] if f.ms > 0]


def stall_start(b0: float, end: float, interval: float, cpu: float = 0.0,
                rate: float = 1.0) -> float:
    """When a stall between the beats at ``b0`` and ``end`` began.

    It began within one beat interval after ``b0`` (or the next beat would have come): the
    middle of that interval, unless the stall was spent computing. Then the GUI thread's CPU
    time between the beats (``cpu``), divided by the share of a core it got during the stall
    (``rate``: 1 on an idle machine, less when other processes compete), dates it - when
    that falls inside the interval.
    """
    gap = end - b0
    for share in (rate, 1.0):
        if share >= 0.1 and gap - interval <= cpu / share <= gap:
            return end - cpu / share
    return b0 + min(interval, gap) / 2
