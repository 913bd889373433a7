#!/usr/bin/env bash
# Ensures a two-node Docker Swarm for tests: the local engine as manager, and a second dockerd in its own
# network and UTS namespace (hostname sciops-node2) joined as a worker over a veth pair.
# Prints the second engine's DOCKER_HOST on stdout.
source "$(dirname "$0")/lib.sh"

NODE2_NAME=sciops-node2
# One private /24 for the pair, used by nothing else: the host side and the namespace side.
HOST_ADDR=${SCIOPS_SWARM_HOST_ADDR:-10.213.0.1}
NODE2_ADDR=${SCIOPS_SWARM_NODE2_ADDR:-10.213.0.2}
NODE2_HOST=$(namespaced_engine node2 "$NODE2_NAME" sciops-h sciops-n2 "$HOST_ADDR" "$NODE2_ADDR" 172.29.0.1/24)
node2() { docker -H "$NODE2_HOST" "$@"; }
NODE2_DIR="$SCIOPS_TESTBED_DIR/node2"

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

load_local_images "$NODE2_HOST" "$NODE2_NAME"

echo "$NODE2_HOST"
