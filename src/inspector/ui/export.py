"""The dock's "Export…" dialog: where to save the shown snapshot, and in which format.

The saving itself is ``inspector.fleet.snapshot_file.save_snapshot``, shared with
``resinspect snapshot -o``.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from inspector.fleet.snapshot_file import format_for

#: The dialog's filters, and the format each one picks.
_FILTERS = {"JSON snapshot (*.json)": "json", "CSV (*.csv)": "csv",
            "Prometheus text (*.prom)": "prom"}


def ask_export_target(parent: QWidget, app: str) -> tuple[Path, str] | None:
    """Ask where to export a snapshot of ``app``: the path (with the format's suffix when
    it had none) and the format; None when the user cancels."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Export snapshot", f"resinspect-{app}-{stamp}.json", ";;".join(_FILTERS))
    if not path:
        return None
    target = Path(path)
    # The filter chosen decides, unless it is the default (JSON) and the name typed says
    # otherwise ("x.csv"): whichever of the two asked for something other than JSON wins.
    fmt = _FILTERS.get(chosen, "json")
    if fmt == "json":
        fmt = format_for(target)
    if not target.suffix:
        target = target.with_suffix(f".{fmt}")
    return target, fmt
