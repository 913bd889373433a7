#!/usr/bin/env bash
# Ensures a Docker engine is reachable (DOCKER_HOST or the default socket) and holds the local test images.
# Where none is reachable and we are root on Debian, installs docker.io and starts dockerd.
source "$(dirname "$0")/lib.sh"

engine_up() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

if ! engine_up; then
  if [ -n "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer: start that engine or unset DOCKER_HOST to use a local one"
  fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io iptables
  command -v docker >/dev/null 2>&1 || apt_install docker.io
  is_root || die "no Docker engine answers on /var/run/docker.sock and starting dockerd needs root"
  mkdir -p "$SCIOPS_TESTBED_DIR"
  # A dockerd that died leaves its pid file behind; dockerd refuses to start over a live one only.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  log "starting dockerd (log: $SCIOPS_TESTBED_DIR/dockerd.log)"
  setsid dockerd >"$SCIOPS_TESTBED_DIR/dockerd.log" 2>&1 < /dev/null &
  wait_for 60 "Docker engine" engine_up || die "dockerd did not start: see $SCIOPS_TESTBED_DIR/dockerd.log"
fi

# local/busybox:1 — a tiny image for tests and examples, built from Debian's busybox-static (no registry here).
build_busybox() {
  # Debian's plain busybox is dynamically linked; only busybox-static runs inside an empty image.
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || apt_install busybox-static
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/data"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  tar -C "$root" -c . | docker import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' - local/busybox:1 >/dev/null
  rm -rf "$root"
  log "built image local/busybox:1"
}

docker image inspect local/busybox:1 >/dev/null 2>&1 || build_busybox

# local/gitlab-runner-stub:1 — the busybox image plus a gitlab-runner stand-in (test/fixtures/gitlab-runner-stub
# says why), rebuilt whenever its files change.
stub="$SCIOPS_ROOT/test/fixtures/gitlab-runner-stub"
stub_hash=$(cat "$stub"/* | sha256sum | cut -c1-16)
if [ "$(docker image inspect --format '{{index .Config.Labels "sciops.fixture-hash"}}' local/gitlab-runner-stub:1 2>/dev/null)" != "$stub_hash" ]; then
  DOCKER_BUILDKIT=0 docker build -q --label "sciops.fixture-hash=$stub_hash" -t local/gitlab-runner-stub:1 "$stub" >/dev/null 2>&1 \
    || die "building local/gitlab-runner-stub:1 failed: run docker build $stub to see why"
  log "built image local/gitlab-runner-stub:1"
fi
