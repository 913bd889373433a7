#!/usr/bin/env bash
# Ensures the Temporal CLI (which embeds the dev server and its Web UI) is available; prints its path.
# Order: $TEMPORAL_CLI_PATH, `temporal` on PATH, the cached pinned build, the official release
# download, and last a build from source through the Go module proxy (a few minutes, once).
source "$(dirname "$0")/lib.sh"

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.5.1}"
cached="$SCIOPS_CACHE_DIR/temporal-cli-v$TEMPORAL_CLI_VERSION/temporal"

if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  [ -x "$TEMPORAL_CLI_PATH" ] || die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file"
  echo "$TEMPORAL_CLI_PATH"; exit 0
fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
if [ -x "$cached" ]; then echo "$cached"; exit 0; fi

mkdir -p "$(dirname "$cached")"
os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
url="https://temporal.download/cli/archive/v$TEMPORAL_CLI_VERSION?platform=$os&arch=$arch"
log "fetching Temporal CLI v$TEMPORAL_CLI_VERSION release"
if command -v curl >/dev/null 2>&1 && curl -fsSL --connect-timeout 5 --max-time 120 "$url" -o "$tmp/cli.tgz" 2>/dev/null \
  && tar -xzf "$tmp/cli.tgz" -C "$tmp" temporal 2>/dev/null; then
  mv "$tmp/temporal" "$cached"
  echo "$cached"; exit 0
fi

command -v go >/dev/null 2>&1 || die "cannot download the Temporal CLI and Go is not installed: install Go or set TEMPORAL_CLI_PATH"
log "release download unavailable; building Temporal CLI v$TEMPORAL_CLI_VERSION from source (Go module proxy, takes a few minutes once)"
GOBIN="$tmp/bin" GOFLAGS=-buildvcs=false go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >&2 \
  || die "building the Temporal CLI failed (see the go output above); set TEMPORAL_CLI_PATH to an existing binary"
mv "$tmp/bin/temporal" "$cached"
echo "$cached"
