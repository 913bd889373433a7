#!/usr/bin/env bash
# Builds the workers image from this checkout's Dockerfile, as `docker compose build` would, for the test that
# runs it. With no registry here, its two base images are made locally first: local/debian:bookworm
# (debootstrap, minbase) and local/node:20 (that, plus this machine's node and npm, and this machine's CA
# bundle for npm: where egress passes a TLS-inspecting proxy, its CA is in that bundle). Prints the image name.
source "$(dirname "$0")/lib.sh"
cd "$SCIOPS_ROOT"

image=local/sciops-workers:test
rootfs="$SCIOPS_TESTBED_DIR/rootfs/bookworm"

if ! docker image inspect local/debian:bookworm >/dev/null 2>&1; then
  if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    log "debootstrap Debian 12 (minbase) into $rootfs (a minute or two, once)"
    rm -rf "$rootfs" && mkdir -p "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$SCIOPS_TESTBED_DIR/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $SCIOPS_TESTBED_DIR/debootstrap.log"
  fi
  log "importing local/debian:bookworm"
  tar -C "$rootfs" -c . | docker import - local/debian:bookworm >/dev/null
fi

ca_bundle=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca_bundle" ] || die "no CA bundle at $ca_bundle: install ca-certificates or set SSL_CERT_FILE"
# The image is rebuilt when the node binary or the CA bundle changes.
stamp="$(node --version)-$(sha256sum "$ca_bundle" | cut -c1-12)"
if [ "$(docker image inspect -f '{{index .Config.Labels "sciops.stamp"}}' local/node:20 2>/dev/null)" != "$stamp" ]; then
  context=$(mktemp -d)
  trap 'rm -rf "$context"' EXIT
  cp "$(readlink -f "$(command -v node)")" "$context/node"
  cp -r "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$context/npm"
  cp "$ca_bundle" "$context/ca.crt"
  cat >"$context/Dockerfile" <<DOCKERFILE
FROM local/debian:bookworm
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca.crt /usr/local/share/sciops-build/ca.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/sciops-build/ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version && npm --version
LABEL sciops.stamp=$stamp
DOCKERFILE
  log "building local/node:20 ($stamp)"
  docker build -q -t local/node:20 "$context" >/dev/null || die "building local/node:20 failed"
fi

log "building $image from Dockerfile"
timeout 1800 docker build -q --build-arg NODE_IMAGE=local/node:20 --build-arg BASE_IMAGE=local/debian:bookworm -t "$image" . \
  >"$SCIOPS_TESTBED_DIR/workers-image.log" 2>&1 || die "building $image failed; see $SCIOPS_TESTBED_DIR/workers-image.log"
echo "$image"
