#!/usr/bin/env bash
# The main job: set up, start the demo application with the inspector panel docked, and
# watch it with `resinspect top`. Without a display the demo runs offscreen with a scripted
# workload, prints a `top` frame of itself and writes screenshots; `top` still attaches.
#
#   scripts/run.sh [--seconds N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

seconds=10
[ "${1:-}" = "--seconds" ] && seconds="${2:-10}"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run.sh: starting the demo with the panel docked; close its window to finish."
  resinspect demo &
else
  echo "run.sh: no display: running the demo offscreen for ${seconds}s (scripted workload)."
  resinspect demo --headless --seconds "$seconds" &
fi
demo=$!
trap 'kill "$demo" 2>/dev/null || true' INT TERM

# Wait for the demo's socket, then watch it.
for _ in $(seq 1 100); do
  resinspect ls --json 2>/dev/null | grep -q "\"pid\": *$demo\b" && break
  kill -0 "$demo" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$demo" 2>/dev/null; then
  if [ -t 1 ]; then
    resinspect top --pid "$demo" || true       # live until the demo exits (or Ctrl-C)
  else
    echo "run.sh: resinspect top --once --pid $demo (a frame taken while the demo runs):"
    sleep 2
    resinspect top --once --pid "$demo" || true
  fi
fi
wait "$demo"
