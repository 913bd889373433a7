#!/usr/bin/env bash
# Ensures the AWS emulator (moto_server: Batch, EFS, S3, EC2, CloudWatch Logs) on a loopback port;
# prints its AWS_ENDPOINT_URL. AWS_ENDPOINT_URL given: it must answer.
source "$(dirname "$0")/lib.sh"

MOTO_VERSION=5.2.1
# The dashboard page: data.json can fail on some S3 states (a moto quirk) while the server is fine.
answers() { curl -fs --max-time 2 -o /dev/null "$1/moto-api/"; }
command -v curl >/dev/null 2>&1 || apt_install curl

if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
  answers "$AWS_ENDPOINT_URL" || die "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL does not answer as an AWS emulator: start moto_server there or unset it"
  echo "$AWS_ENDPOINT_URL"; exit 0
fi

PORT=${SCIOPS_MOTO_PORT:-45660}
URL="http://127.0.0.1:$PORT"
if ! answers "$URL"; then
  if ! command -v moto_server >/dev/null 2>&1; then
    command -v pip3 >/dev/null 2>&1 || apt_install python3-pip
    log "pip install moto[server]==$MOTO_VERSION"
    pip3 install -q "moto[server]==$MOTO_VERSION" >&2 || die "cannot install moto_server: pip install 'moto[server]==$MOTO_VERSION'"
    hash -r
  fi
  mkdir -p "$SCIOPS_TESTBED_DIR"
  log "starting moto_server on $URL (log: $SCIOPS_TESTBED_DIR/moto.log)"
  setsid moto_server -H 127.0.0.1 -p "$PORT" >"$SCIOPS_TESTBED_DIR/moto.log" 2>&1 < /dev/null &
  wait_for 60 "AWS emulator" answers "$URL" || die "moto_server did not start: see $SCIOPS_TESTBED_DIR/moto.log"
fi
echo "$URL"
