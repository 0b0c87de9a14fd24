"""The hang log: every stall of the GUI thread over a threshold, and where its time went.

None of it needs Qt (the probe in ``metrics/probe.py`` wires it to the event loop). One
module per job:

* :mod:`.beat` - what the GUI heartbeat writes at each beat (:class:`Beat`);
* :mod:`.monitor` - the thread that samples the GUI stack during stalls (:class:`HangMonitor`)
  and re-arms the watchdog;
* :mod:`.samples` - one stall's samples while it lasts; :mod:`.merge` - merged into a
  :class:`~inspector.metrics.snapshot.Hang` (:func:`merge_stall`, :func:`stall_start`);
* :mod:`.hanglog` - the bounded log and its whole-run totals (:class:`HangLog`);
* :mod:`.watchdog` - ``faulthandler``'s C watchdog for native code holding the GIL
  (:class:`StallWatchdog`), writing the stall file that :mod:`.stallfile` reads
  (:func:`read_stall_file`, :class:`StallReport`);
* :mod:`.frames` - stack frames as text, and faulthandler's dumps read back.

The names below are the package's public surface (the CLI and the server import the stall
file's reader from here); code inside ``inspector.metrics`` imports each from its module.
"""

from __future__ import annotations

from .beat import Beat
from .frames import Frame, format_frame, parse_dump, parse_frame
from .hanglog import HANG_LOG_SIZE, TOP_FUNCTIONS, HangLog
from .merge import UNOBSERVED, WHERE_SIZE, merge_stall, stall_start
from .monitor import (
    BLIND_GAP_S,
    DETECT_SLACK_S,
    IDLE_WAKE_S,
    LATE_S,
    SAMPLE_INTERVAL_S,
    HangMonitor,
)
from .samples import MAX_SAMPLES, StallSamples
from .stallfile import STALL_HEADER, StallReport, read_stall_file
from .watchdog import WATCHDOG_PERIOD_S, WATCHDOG_TIMEOUT_S, StallWatchdog

__all__ = [
    "BLIND_GAP_S",
    "DETECT_SLACK_S",
    "HANG_LOG_SIZE",
    "IDLE_WAKE_S",
    "LATE_S",
    "MAX_SAMPLES",
    "SAMPLE_INTERVAL_S",
    "STALL_HEADER",
    "TOP_FUNCTIONS",
    "UNOBSERVED",
    "WATCHDOG_PERIOD_S",
    "WATCHDOG_TIMEOUT_S",
    "WHERE_SIZE",
    "Beat",
    "Frame",
    "HangLog",
    "HangMonitor",
    "StallReport",
    "StallSamples",
    "StallWatchdog",
    "format_frame",
    "merge_stall",
    "parse_dump",
    "parse_frame",
    "read_stall_file",
    "stall_start",
]
