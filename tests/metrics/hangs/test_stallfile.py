"""The stall file read back without asking the application: its header, its dump, the
verdict the CLI prints."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from inspector.metrics.hangs.stallfile import STALL_HEADER, encode_header, read_stall_file


def write_stall_file(path: Path, gui_name: str = "MainThread", dump: str = "",
                     armed_mono: float | None = None) -> None:
    armed = time.monotonic() if armed_mono is None else armed_mono
    header = encode_header(threading.get_ident(), gui_name, threading.get_native_id(),
                           armed, 0.6)
    path.write_bytes(header + dump.encode())


def test_a_stall_file_that_is_not_one_reads_as_none(tmp_path: Path) -> None:
    assert read_stall_file(tmp_path / "missing.stall") is None
    (tmp_path / "junk.stall").write_bytes(b"\x00garbage" * 10)
    assert read_stall_file(tmp_path / "junk.stall") is None
    (tmp_path / "list.stall").write_bytes(b"[1, 2]".ljust(STALL_HEADER))
    assert read_stall_file(tmp_path / "list.stall") is None  # JSON, but not a header


def test_the_header_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "1.stall"
    armed = time.monotonic() - 2.0
    write_stall_file(path, armed_mono=armed)
    assert path.stat().st_size == STALL_HEADER
    report = read_stall_file(path)
    assert report is not None
    assert report.pid == os.getpid()
    assert report.gui_thread == threading.get_ident()
    assert report.native_ids[threading.get_ident()] == threading.get_native_id()
    assert report.armed_mono == armed
    assert report.timeout_s == 0.6
    assert abs(report.armed_at - (time.time() - 2.0)) < 0.5  # the wall clock of the arm
    assert report.stalled_for(armed + 1.5) == 1.5
    assert not report.fired
    assert report.gui_stack == []


def test_a_dump_after_the_header_is_the_threads_stacks_innermost_last(
        tmp_path: Path) -> None:
    ident = threading.get_ident()
    dump = (f"Current thread 0x{ident:016x} (most recent call first):\n"
            '  File "/app/index.py", line 88 in rebuild_index\n'
            '  File "/app/app.py", line 40 in on_import\n')
    path = tmp_path / "1.stall"
    write_stall_file(path, dump=dump)
    report = read_stall_file(path)
    assert report is not None
    assert report.fired
    assert report.gui_stack == ["on_import (/app/app.py:40)",
                                "rebuild_index (/app/index.py:88)"]
    # This thread is on a CPU (it is running this test): it is the one said to hold the GIL.
    assert report.holder() == (ident, "MainThread")
    verdict = report.verdict()
    assert verdict.startswith("not answering: the GIL is held by a native call on thread "
                              "MainThread since ")
    assert verdict.endswith("last Python frame rebuild_index (/app/index.py:88)")


def test_the_verdict_escapes_the_applications_names(tmp_path: Path) -> None:
    path = tmp_path / "1.stall"
    write_stall_file(path, gui_name="evil\x1b[2J\u202ename")
    report = read_stall_file(path)
    assert report is not None
    assert report.gui_name == "evil\x1b[2J\u202ename"  # kept exact in the data
    verdict = report.verdict()
    assert "\x1b" not in verdict
    assert "\u202e" not in verdict
    assert "none (no Python frame on that thread)" in verdict
