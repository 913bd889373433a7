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

# namespaced_engine DIR HOSTNAME HOST_IF NS_IF HOST_ADDR NS_ADDR BIP: a dockerd in its own network and UTS
# namespace (named after HOSTNAME), reachable from the host over a veth pair HOST_IF <-> NS_IF on HOST_ADDR/24
# and NS_ADDR/24; data, socket and log under $SCIOPS_TESTBED_DIR/DIR. Prints its DOCKER_HOST.
namespaced_engine() {
  local dir="$SCIOPS_TESTBED_DIR/$1" name=$2 host_if=$3 ns_if=$4 host_addr=$5 ns_addr=$6 bip=$7
  local sock="$dir/docker.sock"
  is_root || die "an engine in a network namespace needs root; run as root"
  command -v ip >/dev/null 2>&1 || apt_install iproute2
  command -v nsenter >/dev/null 2>&1 || apt_install util-linux
  [ -e "/var/run/netns/$name" ] || ip netns add "$name"
  if ! ip link show "$host_if" >/dev/null 2>&1; then
    ip link add "$host_if" type veth peer name "$ns_if"
    ip link set "$ns_if" netns "$name"
  fi
  # (tests on captured output, not `| grep -q`: with pipefail, grep closing the pipe early fails the test)
  [[ $(ip addr show dev "$host_if") == *" $host_addr/"* ]] || ip addr add "$host_addr/24" dev "$host_if"
  ip link set "$host_if" up
  [[ $(ip -n "$name" addr show dev "$ns_if") == *" $ns_addr/"* ]] || ip -n "$name" addr add "$ns_addr/24" dev "$ns_if"
  ip -n "$name" link set "$ns_if" up
  ip -n "$name" link set lo up
  # The testbed's other pairs (the manager's advertise address among them) are reached through the host. No
  # default route: with none, a pull from a registry fails at once instead of waiting on a network that is not there.
  [ -n "$(ip -n "$name" route show 10.213.0.0/16)" ] || ip -n "$name" route add 10.213.0.0/16 via "$host_addr"
  if ! docker -H "unix://$sock" info >/dev/null 2>&1; then
    # Once more after a failed start (a dockerd that did not answer in time is stopped first); the log of a
    # failed try is printed, so a CI log says why.
    start_namespaced_dockerd "$dir" "$name" "$bip" \
      || { stop_namespaced_dockerd "$dir"; start_namespaced_dockerd "$dir" "$name" "$bip"; } \
      || die "dockerd $name did not start: see $dir/dockerd.log"
  fi
  echo "unix://$sock"
}

# start_namespaced_dockerd DIR NAME BIP: starts the dockerd of namespaced_engine and waits for it to answer.
start_namespaced_dockerd() {
  local dir=$1 name=$2 bip=$3 sock="$1/docker.sock"
  mkdir -p "$dir/data" "$dir/exec"
  if [ -f "$dir/docker.pid" ] && ! kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null; then rm -f "$dir/docker.pid"; fi
  rm -f "$sock"
  log "starting engine $name (log: $dir/dockerd.log)"
  # nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then finds no devices cgroup.
  setsid nsenter --net="/var/run/netns/$name" unshare --uts sh -c \
    "hostname $name && exec dockerd --data-root '$dir/data' --exec-root '$dir/exec' \
      --pidfile '$dir/docker.pid' -H 'unix://$sock' --bip $bip" \
    >"$dir/dockerd.log" 2>&1 < /dev/null &
  local pid=$! deadline=$((SECONDS + 90))
  # Until it answers, it exits (no use waiting longer), or 90 s pass.
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    if docker -H "unix://$sock" info >/dev/null 2>&1; then log "engine $name is ready"; return 0; fi
    sleep 0.2
  done
  log "engine $name did not answer ($(kill -0 "$pid" 2>/dev/null && echo 'not in 90 s' || echo 'it exited')); the end of its log:"
  grep -v 'level=info' "$dir/dockerd.log" | tail -n 20 | sed 's/^/[setup]   /' >&2 || true
  return 1
}

# stop_namespaced_dockerd DIR: stops the dockerd (and the containerd it started) of a failed start.
stop_namespaced_dockerd() {
  local dir=$1 pid
  pid=$(cat "$dir/docker.pid" 2>/dev/null || pgrep -f -- "--data-root $dir/data" | head -n 1 || true)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait_for 30 "old engine in $dir to stop" process_gone "$pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/docker.pid"
}

process_gone() { ! kill -0 "$1" 2>/dev/null; }

# load_local_images DOCKER_HOST NAME: no registry, so hand another engine the local test images (local/*).
load_local_images() {
  local host=$1 name=$2 image
  for image in $(docker image ls --filter reference='local/*' --format '{{.Repository}}:{{.Tag}}'); do
    # By id, not by name: an image rebuilt here replaces the other engine's older copy.
    [ "$(docker -H "$host" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "$(docker image inspect --format '{{.Id}}' "$image")" ] \
      || { docker save "$image" | docker -H "$host" load >/dev/null && log "loaded $image on $name"; }
  done
}
