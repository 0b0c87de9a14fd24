#!/usr/bin/env bash
# A newcomer's machine, built and used: a bare Debian root file system (debootstrap minbase
# with only python3, python3-venv, git and ca-certificates), the host's apt and pip
# configuration and CA certificates copied in (what reaches the package registries here),
# this checkout's committed HEAD cloned into it, and the README's two commands run there:
#
#   1. as a new non-root user on the bare system (set-up must say the one line to run as root),
#   2. as root: scripts/run.sh, then scripts/test.sh (set-up installs Qt's libraries),
#   3. as the non-root user again: scripts/run.sh, then scripts/test.sh.
#
# Each run has a clean environment (env -i: no PYTHON*, no PIP_*). It prints every exit status
# and pytest's summary line, and keeps the logs. It takes minutes and needs root; it is not
# part of .ci/run.
#
#   scripts/fresh-machine-check.sh [--rebuild] [--suite bookworm] [--dir /var/tmp/resinspect-fresh]
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUITE=bookworm
WORK=/var/tmp/resinspect-fresh
REBUILD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild) REBUILD=1 ;;
    --suite) SUITE="$2"; shift ;;
    --dir) WORK="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "fresh-machine-check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'fresh-machine-check: %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { say "needs root (debootstrap and chroot)"; exit 1; }

ROOTFS="$WORK/root"
BASE="$WORK/base-$SUITE.tar"
LOGS="$WORK/logs"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PATH_IN="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

mounted=()
cleanup() {
  local i
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

mkdir -p "$WORK" "$LOGS"
if [ "$REBUILD" -eq 1 ] || [ ! -s "$BASE" ]; then
  say "building a bare $SUITE root file system (debootstrap minbase; a few minutes)"
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase --include=python3,python3-venv,git,ca-certificates \
    "$SUITE" "$ROOTFS" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 \
    || { tail -n 20 "$LOGS/debootstrap.log"; say "debootstrap failed"; exit 1; }
  tar -C "$ROOTFS" -cf "$BASE" .
else
  say "reusing the bare $SUITE root file system in $BASE (--rebuild makes a new one)"
fi
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS"
tar -C "$ROOTFS" -xf "$BASE"

# What reaches the registries from here: apt's and pip's system configuration, CA certificates
# and name resolution. Nothing else of the host (no wheels on disk, no personal pip config).
cp -a /etc/apt/apt.conf.d/. "$ROOTFS/etc/apt/apt.conf.d/" 2>/dev/null || true
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$ROOTFS/etc/apt/sources.list.d/"
  rm -f "$ROOTFS/etc/apt/sources.list"
fi
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOTFS/etc/pip.conf"
[ -d /etc/xdg/pip ] && mkdir -p "$ROOTFS/etc/xdg" && cp -a /etc/xdg/pip "$ROOTFS/etc/xdg/"
cp -a /usr/local/share/ca-certificates/. "$ROOTFS/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"

for fs in proc sys dev dev/pts; do
  mkdir -p "$ROOTFS/$fs"
  mount --bind "/$fs" "$ROOTFS/$fs"
  mounted+=("$ROOTFS/$fs")
done
mkdir -p "$ROOTFS/dev/shm" "$ROOTFS/tmp"
chmod 1777 "$ROOTFS/tmp"

chroot "$ROOTFS" useradd --create-home --shell /bin/bash newcomer
git clone --quiet --no-local "$REPO" "$ROOTFS/root/resinspect"
git clone --quiet --no-local "$REPO" "$ROOTFS/home/newcomer/resinspect"
chroot "$ROOTFS" chown -R newcomer:newcomer /home/newcomer/resinspect
say "cloned $(git -C "$REPO" rev-parse --short HEAD) for root and for user newcomer"

# run LABEL USER COMMAND: one README command in a clean environment; prints its status.
results=()
run() {
  local label="$1" user="$2" cmd="$3" home=/root status=0
  [ "$user" = root ] || home="/home/$user"
  local log="$LOGS/$label.log" started=$SECONDS
  say "$label: $cmd (as $user)"
  chroot --userspec="$user:$user" "$ROOTFS" env -i HOME="$home" PATH="$PATH_IN" LANG=C.UTF-8 \
    USER="$user" bash -c "cd '$home/resinspect' && $cmd" </dev/null >"$log" 2>&1 \
    || status=$?
  local summary
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|(passed|failed|error).* in [0-9.]+s' "$log" \
            | tail -n 1 || true)
  results+=("$(printf '%-28s exit %-3s %4ss  %s' "$label" "$status" "$((SECONDS - started))" "$summary")")
  say "$label: exit $status${summary:+ ($summary)}"
}

run "newcomer-bare-setup" newcomer "scripts/run.sh --seconds 6"
grep -E 'apt-get' "$LOGS/newcomer-bare-setup.log" | sed 's/^/    /' || true
run "root-run" root "scripts/run.sh"
run "root-test" root "scripts/test.sh"
run "newcomer-run" newcomer "scripts/run.sh"
run "newcomer-test" newcomer "scripts/test.sh"

printf '\nfresh-machine-check summary (%s, logs in %s):\n' "$SUITE" "$LOGS"
printf '  %s\n' "${results[@]}"
# The bare non-root set-up is expected to stop (exit 1) with the line to run as root.
failed=0
for line in "${results[@]:1}"; do
  case "$line" in *"exit 0  "*) ;; *) failed=1 ;; esac
done
exit "$failed"
