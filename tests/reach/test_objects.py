"""Python objects by type, only on request: the protocol parameter and `snapshot --objects`."""

from __future__ import annotations

import json

from inspector.server import InspectorServer
from inspector.server.client import InspectorClient
from tests.cli_helpers import run_cli


class Needle:
    pass


def test_objects_are_counted_only_when_asked(server: InspectorServer) -> None:
    needles = [Needle() for _ in range(60_000)]  # among the 50 most numerous
    with InspectorClient(server.path) as client:
        assert client.snapshot().python_objects is None
        counted = client.snapshot(objects=True).python_objects
    assert counted is not None
    counts = {row.type_name: row.count for row in counted}
    assert counts[f"{__name__}.Needle"] == len(needles)
    assert [row.count for row in counted] == sorted((row.count for row in counted),
                                                    reverse=True)


def test_snapshot_objects_from_the_command_line(server: InspectorServer) -> None:
    keep = [Needle() for _ in range(60_001)]
    out = run_cli("snapshot", "--socket", str(server.path), "--objects")
    assert out.exit_code == 0, out.stderr
    rows = json.loads(out.stdout)["python_objects"]
    assert {"type_name": f"{__name__}.Needle", "count": len(keep)} in rows
    plain = json.loads(run_cli("snapshot", "--socket", str(server.path)).stdout)
    assert plain["python_objects"] is None
