#!/usr/bin/env bash
# Regenerate src/inspector/metrics/snapshot.schema.json from the snapshot structs, after a
# field was added. tests/metrics/test_model.py fails until the committed file matches.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"; [ -x "$PY" ] || PY=python3
"$PY" -c 'from inspector.metrics.snapshot import write_schema; print("wrote", write_schema())'
