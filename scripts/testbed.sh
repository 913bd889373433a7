#!/usr/bin/env bash
# Brings up every real service the tests use and records where they are in .sciops/testbed.env:
# the Temporal CLI (the test harness starts its own dev server with it), the Temporal test server (for
# time-skipping workflow tests), the Docker engine with a second swarm node and a third engine outside the
# swarm, PostgreSQL, the AWS emulator, a MongoDB-wire server (FerretDB), a headless browser (Debian's
# chromium) for the Web UI test, Docker Compose v2 to validate docker-compose.yml, and the workers image
# built from the Dockerfile. Idempotent: seconds when all is already up (the image rebuilds only what changed).
source "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

temporal=$(bash "$here/temporal-cli.sh")
test_server=$(bash "$here/temporal-test-server.sh")
bash "$here/docker-engine.sh"
node2=$(bash "$here/swarm-node.sh")
node3=$(bash "$here/spare-node.sh")
database_url=$(bash "$here/postgres.sh")
aws_endpoint=$(bash "$here/aws-emulator.sh")
mongo_url=$(bash "$here/ferretdb.sh")
mongo_tools=$(bash "$here/mongo-tools.sh")
chromium=$(bash "$here/browser.sh")
compose=$(bash "$here/compose.sh")
bash "$here/workers-image.sh" >/dev/null
# A real PostgreSQL server image (local/postgres:15), on both swarm nodes, for stacks that need a database.
bash "$here/postgres-image.sh" "$node2" >/dev/null

env_set "$TESTBED_ENV" TEMPORAL_CLI_PATH "$temporal"
env_set "$TESTBED_ENV" SCIOPS_TEST_SERVER_PATH "$test_server"
env_set "$TESTBED_ENV" DOCKER_HOST "${DOCKER_HOST:-unix:///var/run/docker.sock}"
env_set "$TESTBED_ENV" SCIOPS_TEST_NODE2_DOCKER_HOST "$node2"
env_set "$TESTBED_ENV" SCIOPS_TEST_NODE3_DOCKER_HOST "$node3"
env_set "$TESTBED_ENV" DATABASE_URL "$database_url"
env_set "$TESTBED_ENV" AWS_ENDPOINT_URL "$aws_endpoint"
env_set "$TESTBED_ENV" SCIOPS_TEST_MONGO_URL "$mongo_url"
env_set "$TESTBED_ENV" SCIOPS_TEST_MONGO_TOOLS "$mongo_tools"
env_set "$TESTBED_ENV" SCIOPS_TEST_CHROMIUM "$chromium"
env_set "$TESTBED_ENV" SCIOPS_TEST_COMPOSE "$compose"
env_set "$TESTBED_ENV" AWS_REGION "${AWS_REGION:-us-east-1}"
# The emulator takes any credentials; real ones from the environment win.
env_set "$TESTBED_ENV" AWS_ACCESS_KEY_ID "${AWS_ACCESS_KEY_ID:-test}"
env_set "$TESTBED_ENV" AWS_SECRET_ACCESS_KEY "${AWS_SECRET_ACCESS_KEY:-test}"
log "testbed ready: $TESTBED_ENV"
