#!/usr/bin/env bash
# Set up resinspect on a fresh machine: Qt's system libraries, a virtual environment in
# .venv, and the project with its test tools. Safe to run again; it only adds what is missing.
#
#   scripts/setup.sh            (sourced by run.sh and test.sh)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RESINSPECT_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

say() { printf 'setup: %s\n' "$*" >&2; }

# Qt 6 needs these on a bare Debian machine (docs/architecture.md, "Dependencies and platform"); fonts so
# offscreen text renders.
QT_PACKAGES=(libglib2.0-0 libgl1 libegl1 libx11-6 libxkbcommon0 libfontconfig1 libfreetype6
             libdbus-1-3 libbrotli1 fonts-dejavu-core)

install_system_libraries() {
  command -v dpkg-query >/dev/null 2>&1 || return 0   # not Debian: nothing we know to check
  local missing=()
  for pkg in "${QT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  # Debian splits venv's pip bootstrap out of python3.
  if command -v "$PYTHON" >/dev/null 2>&1 && ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
    missing+=("python3-venv")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  local install="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  else
    if command -v sudo >/dev/null 2>&1; then
      say "missing system packages; run: sudo apt-get update && sudo $install"
    else
      say "missing system packages; run as root: apt-get update && $install"
    fi
    exit 1
  fi
}

# pip, with one line per package it fetches or installs instead of twenty silent seconds; the
# whole output stays in the log.
pip_install() {
  local log="$1"; shift
  "$VENV/bin/python" -m pip install --progress-bar off "$@" 2>&1 | tee -a "$log" \
    | while IFS= read -r line; do
        case "$line" in
          Collecting*|"Installing collected packages"*|"Successfully installed"*)
            say "pip: ${line:0:110}" ;;
        esac
      done
  return "${PIPESTATUS[0]}"
}

check_python() {
  command -v "$PYTHON" >/dev/null 2>&1 || { say "python3 (3.11 or newer) is not installed"; exit 1; }
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { say "resinspect needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)"; exit 1; }
}

make_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  # Reinstall only when pyproject.toml changed since the last install.
  local stamp="$VENV/.resinspect-installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    say "installing resinspect and its test tools into $VENV"
    local log="$VENV/install.log"
    : >"$log"
    if ! { pip_install "$log" --upgrade pip && pip_install "$log" -e "$ROOT[test]"; }; then
      tail -n 30 "$log" >&2
      say "installation failed; the whole log is $log"
      exit 1
    fi
    touch "$stamp"
  fi
}

install_system_libraries
check_python
make_venv
export PATH="$VENV/bin:$PATH"
