#!/usr/bin/env bash
# Installs the npm dependencies from the lockfile when node_modules is missing or older than the lockfile,
# then builds dist/: the compiled TypeScript (the CLI and the workers run from there) and the workflow bundle.
source "$(dirname "$0")/lib.sh"
cd "$SCIOPS_ROOT"

command -v node >/dev/null 2>&1 || apt_install nodejs npm
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Node.js $(node --version) is too old: sciops needs Node 20 or newer"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: npm 11 writes lockfiles without other platforms' optional packages
  # (biome, swc) and then its own `npm ci` refuses them as out of sync. Versions still come from the lockfile.
  log "npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error >&2
fi
log "compiling TypeScript, bundling the workflow code"
npm run --silent build
