"""A real PySide6 application whose names are hostile, for the hardening tests (issue 12).

Its app name and component ids carry what an attacker (or an odd file name) can put in a
name: terminal escapes (``ESC]0;`` retitling, ``ESC[2J`` clearing, OSC 8 links), a newline
that would forge a table row, a right-to-left override, spreadsheet formulas, a bare CR, a
10,000-character id and, with ``--non-utf8``, undecodable bytes kept by surrogateescape (the
default name of a script whose file name is not UTF-8). Each component holds one 100-byte
CACHE resource. It prints ``READY <pid>`` once its event loop runs and quits on SIGTERM.

    python tests/apps/hostile_app.py [--non-utf8] [--seconds N]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from inspector.resources import (
    IResourceManagementService,
    ResourceManagementService,
    ResourceType,
    register_service,
)

#: The app name: retitles the terminal, then a newline that forges an ``ls`` row.
APP_NAME = "evil\x1b]0;pwned\x07\n4242  forged-row"
#: Component ids, each an attack on a text output.
COMPONENT_IDS = (
    "clear\x1b[2Jscreen",
    "link\x1b]8;;https://example.invalid\x1b\\click\x1b]8;;\x1b\\",
    "rtl\u202eexe.txt",
    "=cmd|\"/c calc\"!A1",
    "+SUM(A1:A2)",
    "@HYPERLINK(\"x\")",
    "-2+3",
    "bare\rcr",
    "W" * 10_000,
)
#: Undecodable bytes as Python keeps them (os.fsdecode of b"\xff\xfe").
NON_UTF8 = os.fsdecode(b"bad\xff\xfename")


class Entry:
    """A tracked cache entry."""

    __slots__ = ("__weakref__", "data")

    def __init__(self) -> None:
        self.data = bytes(100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--non-utf8", action="store_true",
                        help="name the app and one component with undecodable bytes")
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()

    app = QCoreApplication(sys.argv)
    service = ResourceManagementService()
    register_service(IResourceManagementService, service)
    ids = list(COMPONENT_IDS) + ([NON_UTF8] if args.non_utf8 else [])
    owners = [QObject() for _ in ids]
    entries = [Entry() for _ in ids]
    for owner, cid, entry in zip(owners, ids, entries, strict=True):
        service.register_component(owner, cid, "hostile")
        service.track_resource(owner, ResourceType.CACHE, entry, size_bytes=100)

    from inspector.attach import attach

    handle = attach(name=NON_UTF8 if args.non_utf8 else APP_NAME, dock=False)
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    pulse = QTimer()
    pulse.timeout.connect(lambda: None)
    pulse.start(100)
    QTimer.singleShot(0, lambda: print(f"READY {os.getpid()}", flush=True))
    QTimer.singleShot(int(args.seconds * 1000), app.quit)
    code = app.exec()
    handle.close()
    del entries
    return code


if __name__ == "__main__":
    sys.exit(main())
