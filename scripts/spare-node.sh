#!/usr/bin/env bash
# Ensures a third engine that is NOT in the swarm (hostname sciops-node3, in its own network and UTS
# namespace), for the tests of `swarm init` and of joining a node. It starts outside any swarm; a test that
# joins it makes it leave again. Prints its DOCKER_HOST on stdout.
source "$(dirname "$0")/lib.sh"

NODE3_NAME=sciops-node3
# Its own /24, beside the swarm pair's; the manager's advertise address is reached through the host.
HOST_ADDR=${SCIOPS_SPARE_HOST_ADDR:-10.213.1.1}
NODE3_ADDR=${SCIOPS_SPARE_NODE_ADDR:-10.213.1.2}
NODE3_HOST=$(namespaced_engine node3 "$NODE3_NAME" sciops-h3 sciops-n3 "$HOST_ADDR" "$NODE3_ADDR" 172.30.0.1/24)
load_local_images "$NODE3_HOST" "$NODE3_NAME"
echo "$NODE3_HOST"
