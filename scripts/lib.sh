# Shared helpers for the setup scripts. Source it; do not run it.
# Every setup script is idempotent: it checks what is already there and only does what is missing.

set -euo pipefail

SCIOPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Machine-wide testbed state: engines' data, sockets, logs. Survives between runs so a warm start is fast.
SCIOPS_TESTBED_DIR="${SCIOPS_TESTBED_DIR:-/var/lib/sciops-testbed}"
# Downloaded or built tools (the Temporal CLI).
SCIOPS_CACHE_DIR="${SCIOPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sciops}"
# Per-checkout state: the dev server's database, the testbed's environment file.
SCIOPS_STATE_DIR="${SCIOPS_STATE_DIR:-$SCIOPS_ROOT/.sciops}"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# apt_install PKG...: installs Debian packages when we are root on Debian; otherwise explains what is missing.
apt_install() {
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    die "missing $*: install it (Debian: apt-get install -y $*) or point the matching setting at an existing service"
  fi
  if [ ! -f "$SCIOPS_TESTBED_DIR/.apt-updated" ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null
    mkdir -p "$SCIOPS_TESTBED_DIR" && touch "$SCIOPS_TESTBED_DIR/.apt-updated"
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it succeeds or time runs out.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  log "$what is ready"
}

# env_set FILE NAME VALUE: records NAME=VALUE in an env file (replacing an older value).
env_set() {
  local file=$1 name=$2 value=$3
  mkdir -p "$(dirname "$file")"
  touch "$file"
  grep -v "^$name=" "$file" > "$file.tmp" || true
  printf '%s=%s\n' "$name" "$value" >> "$file.tmp"
  mv "$file.tmp" "$file"
}

TESTBED_ENV="$SCIOPS_STATE_DIR/testbed.env"
