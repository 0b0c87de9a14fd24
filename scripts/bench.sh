#!/usr/bin/env bash
# Run every benchmark in bench/ (each against a bare baseline in the same run; results go to
# bench/results/) and fail when any budget breaks. Slow on purpose: not part of .ci/run.
#
#   scripts/bench.sh [NAME ...]      e.g. scripts/bench.sh tracking socket
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen

benches=()
if [ $# -gt 0 ]; then
  for name in "$@"; do benches+=("bench/bench_${name#bench_}"); done
else
  for file in bench/bench_*.py; do benches+=("${file%.py}"); done
fi

failed=()
for bench in "${benches[@]}"; do
  file="${bench%.py}.py"
  [ -f "$file" ] || { echo "bench.sh: no benchmark $file" >&2; exit 2; }
  # Benchmarks compare against a baseline in the same run, but a busy machine still widens
  # their spread: say how busy it was (each result file records it too).
  echo "bench.sh: $file (load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown))"
  python "$file" || failed+=("$file")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench.sh: budget broken in: ${failed[*]}" >&2
  exit 1
fi
echo "bench.sh: every budget held (${#benches[@]} benchmarks)"
