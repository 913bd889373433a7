#!/usr/bin/env bash
# Docker Compose v2, to validate docker-compose.yml the way `docker compose` reads it. Prints its path: the
# engine's compose plugin if installed, else Compose built once through the Go module proxy (Debian 12 has
# only Compose v1, which predates the compose specification this file follows).
source "$(dirname "$0")/lib.sh"

version=v2.29.7
cached="$SCIOPS_CACHE_DIR/compose-$version/docker-compose"
for candidate in "${SCIOPS_TEST_COMPOSE:-}" /usr/libexec/docker/cli-plugins/docker-compose \
  /usr/local/lib/docker/cli-plugins/docker-compose /usr/lib/docker/cli-plugins/docker-compose "$cached"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" version >/dev/null 2>&1; then
    echo "$candidate"
    exit 0
  fi
done

command -v go >/dev/null 2>&1 || die "Go is needed to build Docker Compose $version (or install the docker-compose-plugin package)"
log "building Docker Compose $version through the Go module proxy (a few minutes, once)"
mkdir -p "$(dirname "$cached")"
GOBIN="$(dirname "$cached")" GOFLAGS=-mod=mod go install "github.com/docker/compose/v2/cmd@$version" >&2 \
  || die "building Docker Compose failed (see above)"
mv "$(dirname "$cached")/cmd" "$cached"
"$cached" version >/dev/null || die "$cached does not run"
echo "$cached"
