"""Regenerate the committed screenshots from a headless run of the demo.

    .venv/bin/python screenshots/make_screenshots.py [--seconds 10]

Writes, beside this script: ``dock-workload.png`` (the demo's window with the panel docked,
during its workload), ``dock-leak.png`` (the panel's leak suspects after the Debug menu's
defects were planted), ``top.svg`` / ``top.png`` (a ``resinspect top`` frame of the demo)
and ``dock-800x600.png`` (an ordinary 800x600 window with the panel docked by ``attach()``'s
rule). It runs ``resinspect demo --headless`` in this process, offscreen on a 1920x1080
screen, without a socket, with the panel's settings in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = ("dock-workload.png", "dock-leak.png", "top.svg", "top.png", "dock-800x600.png")


def main(argv: list[str] | None = None) -> int:
    """Run the demo's tour and keep its images here; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of the tour (default: 10, long enough for growth)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "src"))  # this checkout, installed or not
    import json
    import tempfile

    # Offscreen, not minimal: minimal has no fonts, and text would come out as boxes. A wide
    # screen: an 800x600 window has room to grow by the panel there, so it docks.
    scratch = Path(tempfile.mkdtemp(prefix="resinspect-shots-"))
    screens = scratch / "screens.json"
    screens.write_text(json.dumps({"screens": [
        {"name": "wide", "x": 0, "y": 0, "width": 1920, "height": 1080,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={screens}"
    os.environ["XDG_CONFIG_HOME"] = str(scratch)  # the panel's QSettings: not the user's
    from inspector.demo.app import main as demo

    status = demo(headless=True, seconds=args.seconds, screenshots=HERE, serve=False)
    (HERE / "demo.log").unlink(missing_ok=True)  # the run's log is not a screenshot
    missing = [name for name in NAMES if not (HERE / name).is_file()]
    if missing:
        print(f"make_screenshots: not written: {', '.join(missing)}", file=sys.stderr)
        return status or 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
