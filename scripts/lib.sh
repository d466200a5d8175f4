# Shared helpers for the scripts in this folder. Sourced, not run.
# shellcheck shell=bash

SPHERELET_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPHERELET_PREFIX="${SPHERELET_PREFIX:-/usr/local}"
SPHERELET_INSTALL_DIR="$SPHERELET_PREFIX/lib/spherelet"
SPHERELET_BIN="$SPHERELET_PREFIX/bin/spherelet"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# True when systemd is the init system and manages services.
have_systemd() { [ -d /run/systemd/system ]; }

need_root() { [ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts system daemons)"; }

# Installs the Debian packages among "$@" that are missing; runs apt-get update once first.
apt_install() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "apt: installing ${missing[*]}"
    if [ -z "${SPHERELET_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        export SPHERELET_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# True when the process whose pid is in file $1 is alive.
pidfile_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Waits up to $2 seconds for the Unix socket $1 to appear.
wait_for_socket() {
    local socket=$1 seconds=$2 i
    for ((i = 0; i < seconds * 10; i++)); do
        [ -S "$socket" ] && return 0
        sleep 0.1
    done
    return 1
}
