#!/usr/bin/env bash
# Ensures a two-node Docker Swarm for tests: the local engine as manager, and a second dockerd in its own
# network and UTS namespace (hostname sciops-node2) joined as a worker over a veth pair.
# Prints the second engine's DOCKER_HOST on stdout.
source "$(dirname "$0")/lib.sh"

NS=sciops-node2
NODE2_NAME=sciops-node2
# One private /24 for the pair, used by nothing else: the host side and the namespace side.
HOST_ADDR=${SCIOPS_SWARM_HOST_ADDR:-10.213.0.1}
NODE2_ADDR=${SCIOPS_SWARM_NODE2_ADDR:-10.213.0.2}
NODE2_DIR="$SCIOPS_TESTBED_DIR/node2"
NODE2_SOCK="$NODE2_DIR/docker.sock"
NODE2_HOST="unix://$NODE2_SOCK"

is_root || die "the second swarm node needs root (network namespaces); run as root"
command -v ip >/dev/null 2>&1 || apt_install iproute2
command -v nsenter >/dev/null 2>&1 || apt_install util-linux

# --- network namespace and veth pair ---
[ -e "/var/run/netns/$NS" ] || ip netns add "$NS"
if ! ip link show sciops-h >/dev/null 2>&1; then
  ip link add sciops-h type veth peer name sciops-n2
  ip link set sciops-n2 netns "$NS"
fi
ip addr show dev sciops-h | grep -q "$HOST_ADDR/" || ip addr add "$HOST_ADDR/24" dev sciops-h
ip link set sciops-h up
ip -n "$NS" addr show dev sciops-n2 | grep -q "$NODE2_ADDR/" || ip -n "$NS" addr add "$NODE2_ADDR/24" dev sciops-n2
ip -n "$NS" link set sciops-n2 up
ip -n "$NS" link set lo up

# --- the second engine ---
node2() { docker -H "$NODE2_HOST" "$@"; }
if ! node2 info >/dev/null 2>&1; then
  mkdir -p "$NODE2_DIR/data" "$NODE2_DIR/exec"
  if [ -f "$NODE2_DIR/docker.pid" ] && ! kill -0 "$(cat "$NODE2_DIR/docker.pid")" 2>/dev/null; then rm -f "$NODE2_DIR/docker.pid"; fi
  rm -f "$NODE2_SOCK"
  log "starting the second engine ($NODE2_NAME, log: $NODE2_DIR/dockerd.log)"
  # nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then finds no devices cgroup.
  setsid nsenter --net="/var/run/netns/$NS" unshare --uts sh -c \
    "hostname $NODE2_NAME && exec dockerd --data-root '$NODE2_DIR/data' --exec-root '$NODE2_DIR/exec' \
      --pidfile '$NODE2_DIR/docker.pid' -H '$NODE2_HOST' --bip 172.29.0.1/24" \
    >"$NODE2_DIR/dockerd.log" 2>&1 < /dev/null &
  wait_for 60 "second engine" node2 info || die "the second dockerd did not start: see $NODE2_DIR/dockerd.log"
fi

# --- the swarm: manager on the local engine, node 2 as worker ---
state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" != active ]; then
  log "docker swarm init (advertise $HOST_ADDR)"
  docker swarm init --advertise-addr "$HOST_ADDR" >/dev/null
fi
[ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || die "the local engine is in a swarm but not a manager: run 'docker swarm leave --force' or use another engine"

node2_id=$(node2 info --format '{{.Swarm.NodeID}}')
node2_ready() { [ "$(docker node inspect "$node2_id" --format '{{.Status.State}}' 2>/dev/null)" = ready ]; }
if [ -z "$node2_id" ] || ! docker node inspect "$node2_id" >/dev/null 2>&1; then
  # Not a member of this swarm (never joined, or joined an older one): leave whatever it had, then join.
  node2 swarm leave --force >/dev/null 2>&1 || true
  token=$(docker swarm join-token -q worker)
  log "joining $NODE2_NAME to the swarm"
  node2 swarm join --token "$token" --advertise-addr "$NODE2_ADDR" "$HOST_ADDR:2377" >/dev/null
  node2_id=$(node2 info --format '{{.Swarm.NodeID}}')
fi
wait_for 60 "node $NODE2_NAME" node2_ready || die "$NODE2_NAME did not become Ready in the swarm: see $NODE2_DIR/dockerd.log"
# Nodes of an older swarm that are gone for good would only clutter `docker node ls`.
for id in $(docker node ls --filter role=worker --format '{{.ID}} {{.Status}}' | awk '$2 == "Down" {print $1}'); do
  docker node rm --force "$id" >/dev/null 2>&1 || true
done

# --- images: no registry, so hand node 2 the local test images ---
for image in $(docker image ls --filter reference='local/*' --format '{{.Repository}}:{{.Tag}}'); do
  node2 image inspect "$image" >/dev/null 2>&1 || { docker save "$image" | node2 load >/dev/null && log "loaded $image on $NODE2_NAME"; }
done

echo "$NODE2_HOST"
