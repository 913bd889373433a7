#!/usr/bin/env bash
# Ensures mongodump, mongorestore and bsondump 100.11.0 (the MongoDB Database Tools), the referee of the
# mongodump archive tests; prints the directory that holds them.
# Order: $SCIOPS_MONGO_TOOLS (a directory), the cached build, a build from the vendored source tarball
# (../shared/vendor-src, offline, about 15 s a tool), the tools on PATH when they are this version, the
# source of the tag from GitHub (its vendor/ tree needs no module download), last the official release.
# 100.11.0 and not newer: 100.12+ send `bypassEmptyTsReplacement` on insert, which FerretDB 1.24 refuses.
source "$(dirname "$0")/lib.sh"

MONGO_TOOLS_VERSION="${MONGO_TOOLS_VERSION:-100.11.0}"
VENDOR_TARBALL="${SCIOPS_VENDOR_SRC:-$SCIOPS_ROOT/../shared/vendor-src}/mongo-tools-$MONGO_TOOLS_VERSION.tar.gz"
VENDOR_SHA256=544ba0bf6f76ea5ff77b6bd187337e0712c41c5d17e14c12529438990b884a09
bin="$SCIOPS_CACHE_DIR/mongo-tools-$MONGO_TOOLS_VERSION/bin"
TOOLS=(mongodump mongorestore bsondump)

has_all() { local t; for t in "${TOOLS[@]}"; do [ -x "$1/$t" ] || return 1; done; }
# The tools print "<name> version: 100.11.0" on their first line.
is_version() { [[ $("$1/mongodump" --version 2>/dev/null | head -n1) == *"version: $MONGO_TOOLS_VERSION"* ]]; }

if [ -n "${SCIOPS_MONGO_TOOLS:-}" ]; then
  has_all "$SCIOPS_MONGO_TOOLS" || die "SCIOPS_MONGO_TOOLS=$SCIOPS_MONGO_TOOLS lacks one of ${TOOLS[*]}"
  echo "$SCIOPS_MONGO_TOOLS"; exit 0
fi
if has_all "$bin" && is_version "$bin"; then echo "$bin"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# build_from TARBALL: builds every tool from a source tarball of the tag into $bin.
build_from() {
  command -v go >/dev/null 2>&1 || return 1
  tar -xzf "$1" -C "$tmp" || return 1
  local src t
  src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'mongo-tools*' | head -n1)
  [ -n "$src" ] && [ -d "$src/vendor" ] || return 1
  mkdir -p "$bin"
  for t in "${TOOLS[@]}"; do
    log "building $t $MONGO_TOOLS_VERSION from source (offline, its vendor/ tree)"
    (cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=vendor -buildvcs=false" go build \
      -ldflags "-X main.VersionStr=$MONGO_TOOLS_VERSION -X main.GitCommit=vendored" \
      -o "$bin/$t.tmp" "./$t/main") >&2 || return 1
    mv "$bin/$t.tmp" "$bin/$t"
  done
}

if [ -f "$VENDOR_TARBALL" ]; then
  [ "$(sha256sum "$VENDOR_TARBALL" | cut -d' ' -f1)" = "$VENDOR_SHA256" ] \
    || die "$VENDOR_TARBALL does not have the expected sha256 $VENDOR_SHA256"
  build_from "$VENDOR_TARBALL" || die "building the MongoDB tools from $VENDOR_TARBALL failed (see the go output above)"
  echo "$bin"; exit 0
fi

if command -v mongodump >/dev/null 2>&1; then
  path_dir=$(dirname "$(command -v mongodump)")
  if has_all "$path_dir" && is_version "$path_dir"; then echo "$path_dir"; exit 0; fi
fi

command -v curl >/dev/null 2>&1 || die "no $VENDOR_TARBALL, no MongoDB tools $MONGO_TOOLS_VERSION on PATH, and no curl to fetch them: set SCIOPS_MONGO_TOOLS"
source_url="https://codeload.github.com/mongodb/mongo-tools/tar.gz/refs/tags/$MONGO_TOOLS_VERSION"
log "fetching the MongoDB tools $MONGO_TOOLS_VERSION source from GitHub"
if curl -fsSL --connect-timeout 5 --max-time 300 "$source_url" -o "$tmp/src.tgz" 2>/dev/null && build_from "$tmp/src.tgz"; then
  echo "$bin"; exit 0
fi

case "$(uname -m)" in x86_64) arch=x86_64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
. /etc/os-release 2>/dev/null || true
case "${ID:-}${VERSION_ID:-}" in
  debian1[2-9]*) platform=debian12 ;;
  debian11*) platform=debian11 ;;
  ubuntu24*) platform=ubuntu2404 ;;
  *) platform=ubuntu2204 ;;
esac
release_url="https://fastdl.mongodb.org/tools/db/mongodb-database-tools-$platform-$arch-$MONGO_TOOLS_VERSION.tgz"
log "fetching the MongoDB tools $MONGO_TOOLS_VERSION release ($platform, $arch)"
curl -fsSL --connect-timeout 5 --max-time 300 "$release_url" -o "$tmp/release.tgz" \
  || die "cannot build or download the MongoDB tools $MONGO_TOOLS_VERSION: put mongo-tools-$MONGO_TOOLS_VERSION.tar.gz in $(dirname "$VENDOR_TARBALL") or set SCIOPS_MONGO_TOOLS"
mkdir -p "$tmp/release" "$bin"
tar -xzf "$tmp/release.tgz" -C "$tmp/release"
for t in "${TOOLS[@]}"; do
  found=$(find "$tmp/release" -type f -name "$t" | head -n1)
  [ -n "$found" ] || die "the release $release_url has no $t"
  mv "$found" "$bin/$t"
done
echo "$bin"
