#!/usr/bin/env bash
# Ensures a MongoDB-wire server for the backup tests: FerretDB (v1, its SQLite backend, pure Go) built once
# through the Go module proxy and started on a loopback port; prints its URL. SCIOPS_TEST_MONGO_URL given:
# it must answer. (MongoDB itself is not in Debian; mongodump/mongorestore are not on the Go module proxy.)
source "$(dirname "$0")/lib.sh"

FERRETDB_VERSION="${FERRETDB_VERSION:-1.24.0}"
binary="$SCIOPS_CACHE_DIR/ferretdb-v$FERRETDB_VERSION/ferretdb"
PORT=${SCIOPS_FERRETDB_PORT:-27018}
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -n "${SCIOPS_TEST_MONGO_URL:-}" ]; then
  echo "$SCIOPS_TEST_MONGO_URL"; exit 0
fi

if ! answers "$PORT"; then
  if [ ! -x "$binary" ]; then
    command -v go >/dev/null 2>&1 || die "FerretDB must be built and Go is not installed: install Go or set SCIOPS_TEST_MONGO_URL"
    log "building FerretDB v$FERRETDB_VERSION from source (Go module proxy, a minute or so once)"
    # Not `go install pkg@version`: it asks the proxy for the module's version list, which it refuses. The
    # module's zip lacks build/version/version.txt (generated in its repository), which the build embeds.
    src=$(GOFLAGS=-buildvcs=false go mod download -json "github.com/FerretDB/FerretDB@v$FERRETDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    [ -n "$src" ] || die "downloading FerretDB v$FERRETDB_VERSION through the Go module proxy failed; set SCIOPS_TEST_MONGO_URL"
    tmp=$(mktemp -d)
    cp -r "$src/." "$tmp/" && chmod -R u+w "$tmp"
    echo "v$FERRETDB_VERSION" > "$tmp/build/version/version.txt"
    mkdir -p "$(dirname "$binary")"
    (cd "$tmp" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$binary" ./cmd/ferretdb) >&2 \
      || die "building FerretDB failed (see the go output above); set SCIOPS_TEST_MONGO_URL to a MongoDB-wire server"
    rm -rf "$tmp"
  fi
  dir="$SCIOPS_TESTBED_DIR/ferretdb"
  mkdir -p "$dir/data"
  log "starting FerretDB on 127.0.0.1:$PORT (log: $dir/ferretdb.log)"
  setsid "$binary" --handler=sqlite --sqlite-url="file:$dir/data/" --listen-addr="127.0.0.1:$PORT" \
    --telemetry=disable --log-level=warn --state-dir="$dir" >"$dir/ferretdb.log" 2>&1 < /dev/null &
  wait_for 60 "FerretDB" answers "$PORT" || die "FerretDB did not start: see $dir/ferretdb.log"
fi
echo "mongodb://127.0.0.1:$PORT/"
