#!/usr/bin/env bash
# `npm test`: installs what the tests need, brings up the real services, then lint, type check, and every
# test (unit, integration against the real services, end to end through the built CLI), then a short crash suite.
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
if [ "$#" -eq 0 ]; then
  # A short seeded crash suite (chaos/): the full run is `npm run chaos -- --trials 50`. A filtered run skips it.
  log "crash suite: 6 trials, seed 1"
  node dist/chaos/main.js --trials 6 --seed 1 || status=$?
fi
# One plain closing line that any CI reads: counts from vitest's JSON report.
node -e 'const r = require(process.argv[1]); console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)' "$results" || true
exit "$status"
