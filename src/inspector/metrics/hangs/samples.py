"""The samples of one stall in progress, as the hang monitor takes them."""

from __future__ import annotations

#: Samples kept per stall; past it, every other one is dropped and the pace halves.
MAX_SAMPLES = 4000


class StallSamples:
    """The samples of one stall in progress: points in time, each a stack id."""

    __slots__ = ("beat", "cpu", "ids", "interval", "points", "stacks")

    def __init__(self, beat: float, interval: float) -> None:
        self.beat = beat
        self.interval = interval
        #: The GUI thread's CPU clock at the first and the latest sample: (time, cpu).
        self.cpu: list[tuple[float, float]] = []
        self.points: list[tuple[float, int, bool]] = []  # (time, stack id, late)
        self.ids: dict[tuple[str, ...], int] = {}
        self.stacks: list[tuple[str, ...]] = []

    def cpu_rate(self) -> float:
        """The share of a core the GUI thread used while it was sampled (1 if unknown)."""
        if len(self.cpu) < 2 or self.cpu[-1][0] - self.cpu[0][0] < 0.02:
            return 1.0
        (t0, c0), (t1, c1) = self.cpu[0], self.cpu[-1]
        return min(1.0, max(0.0, (c1 - c0) / (t1 - t0)))

    def add_cpu(self, t: float, cpu: float) -> None:
        """Note the GUI thread's CPU clock (kept: the first reading and the latest)."""
        if len(self.cpu) < 2:
            self.cpu.append((t, cpu))
        else:
            self.cpu[-1] = (t, cpu)

    def timeline(self) -> list[tuple[float, tuple[str, ...], bool]]:
        """The samples as ``(time, stack innermost last, late)``, oldest first."""
        return [(t, self.stacks[sid], late) for t, sid, late in self.points]

    def add(self, t: float, stack: list[str], late: bool) -> None:
        """One sample: the stack seen at ``t``; ``late`` if the monitor woke late."""
        key = tuple(stack)
        sid = self.ids.get(key)
        if sid is None:
            sid = self.ids[key] = len(self.stacks)
            self.stacks.append(key)
        self.points.append((t, sid, late))
        if len(self.points) >= MAX_SAMPLES:
            # Every other sample covers the same time at half the resolution; the time each
            # stands for comes from the gaps between them, so nothing is lost but detail.
            self.points = self.points[::2]
            self.interval *= 2
