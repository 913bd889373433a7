#!/usr/bin/env bash
# `npm test`: installs what the tests need, brings up the real services, then lint, type check, and every
# test (unit, integration against the real services, end to end through the built CLI).
source "$(dirname "$0")/lib.sh"
cd "$SCIOPS_ROOT"

bash scripts/node-deps.sh
bash scripts/testbed.sh
set -a
# shellcheck disable=SC1090
. "$TESTBED_ENV"
set +a

log "lint and format check"
npx biome check .
log "type check (tests and benchmarks too)"
npx tsc -p tsconfig.check.json
results="$SCIOPS_STATE_DIR/vitest-results.json"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# One plain closing line that any CI reads: counts from vitest's JSON report.
node -e 'const r = require(process.argv[1]); console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)' "$results" || true
exit "$status"
