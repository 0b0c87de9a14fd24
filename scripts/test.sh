#!/usr/bin/env bash
# Run the whole test suite (unit, integration, end-to-end, ruff, mypy, import contracts)
# after setting up whatever a fresh machine lacks.
#
#   scripts/test.sh [pytest arguments...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
status=0
python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
