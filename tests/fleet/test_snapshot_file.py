"""A snapshot as a file: one encoding per format, one way to save it (0600, atomic)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from inspector.errors import BadInput
from inspector.fleet.snapshot_file import (
    FORMATS,
    check_format,
    encode_snapshot,
    format_for,
    save_snapshot,
)
from inspector.metrics.exporters import snapshot_to_csv, snapshot_to_prometheus
from inspector.metrics.snapshot import Snapshot

from .conftest import make_snapshot


def snapshot() -> Snapshot:
    return make_snapshot(app="app\x1b")


def test_every_format_is_newline_terminated_and_decodes_back() -> None:
    snap = snapshot()
    encoded = {fmt: encode_snapshot(snap, fmt) for fmt in FORMATS}
    assert all(data.endswith(b"\n") and not data.endswith(b"\n\n")
               for data in encoded.values())
    assert Snapshot.from_json(encoded["json"]) == snap
    assert json.loads(encoded["json"])["app"] == "app\x1b"  # JSON keeps names exact
    assert encoded["csv"].decode().rstrip("\n") == snapshot_to_csv(snap).rstrip("\n")
    assert encoded["prom"].decode().rstrip("\n") == snapshot_to_prometheus(snap).rstrip("\n")
    assert encode_snapshot(snap, "JSON") == encoded["json"]


def test_an_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'xml'"):
        encode_snapshot(snapshot(), "xml")
    with pytest.raises(ValueError, match="'yaml'"):
        check_format("yaml")
    assert check_format("CSV") == "csv"


def test_the_suffix_names_the_format() -> None:
    assert [format_for(p) for p in ("a.csv", "a.CSV", "a.prom", "a.json", "a.txt", "a")] == [
        "csv", "csv", "prom", "json", "json", "json"]


def test_a_saved_snapshot_is_private_and_replaces_the_file_in_one_step(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        target = tmp_path / "snap.csv"
        target.write_text("old")
        os.chmod(target, 0o644)
        assert save_snapshot(snapshot(), target) == target
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == encode_snapshot(snapshot(), "csv")
    new = save_snapshot(snapshot(), tmp_path / "new.json")
    for path in (new, target):
        # A new file is 0600; a replaced one too: the data is a new inode, renamed over it.
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "snap.csv"]


def test_an_unwritable_path_is_one_line_and_a_bad_format_touches_nothing(
        tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="it is a directory"):
        save_snapshot(snapshot(), tmp_path)
    with pytest.raises(ValueError, match="xml"):
        save_snapshot(snapshot(), tmp_path / "x.xml", "xml")
    assert list(tmp_path.iterdir()) == []
