#!/usr/bin/env bash
# `npm run dev`: installs what is missing, starts the local services sciops talks to (Docker engine,
# PostgreSQL, AWS emulator), then `sciops dev`: a Temporal dev server with its Web UI, all workers, and a
# demo doctor run. Ctrl-C stops the server and workers; the services stay up for the next run.
# A service that cannot be started here is reported and left out: the doctor then says what is missing.
source "$(dirname "$0")/lib.sh"
cd "$SCIOPS_ROOT"

bash scripts/node-deps.sh
export TEMPORAL_CLI_PATH="${TEMPORAL_CLI_PATH:-$(bash scripts/temporal-cli.sh)}"
bash scripts/docker-engine.sh || log "continuing without a Docker engine"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(bash scripts/postgres.sh) || { log "continuing without PostgreSQL"; DATABASE_URL=; }
fi
if [ -z "${AWS_ENDPOINT_URL+set}" ]; then
  # Unset: use the local emulator. Set (even empty, meaning real AWS): keep it as given.
  AWS_ENDPOINT_URL=$(bash scripts/aws-emulator.sh) || { log "continuing without the AWS emulator"; AWS_ENDPOINT_URL=; }
  [ -n "$AWS_ENDPOINT_URL" ] && export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
fi
export DATABASE_URL AWS_ENDPOINT_URL
exec node dist/clients/cli.js dev "$@"
