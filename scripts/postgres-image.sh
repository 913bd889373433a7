#!/usr/bin/env bash
# Builds local/postgres:15, a real PostgreSQL server image (Debian 12's postgresql package on
# local/debian:bookworm), for compose stacks that need a database to converge and for service-mode dumps. Its
# entry point behaves like the official postgres image's for what compose files use of it: POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD, POSTGRES_INITDB_ARGS, initdb into
# /var/lib/postgresql/data (PGDATA) on the first start, /docker-entrypoint-initdb.d scripts, listening on all
# addresses on 5432, and `command: postgres -c 'config_file=...'` (or options alone) passed to the server.
# pg_isready, psql and the other client tools are on PATH, for healthchecks and dumps.
# Rebuilt only when this script or the base image changes. Each DOCKER_HOST given as an argument (the other
# swarm nodes: no registry here) gets the same image. Prints the image name.
source "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

image=local/postgres:15
base=local/debian:bookworm

# The base image is made by the workers image's script (debootstrap), once; it makes the base first, so the base
# is there even when the workers image itself then fails to build.
if ! docker image inspect "$base" >/dev/null 2>&1; then
  bash "$here/workers-image.sh" >/dev/null || log "scripts/workers-image.sh failed; going on if it made $base"
fi
base_id=$(docker image inspect --format '{{.Id}}' "$base" 2>/dev/null) || die "$base is missing: run scripts/workers-image.sh"
stamp="$(sha256sum "$0" | cut -c1-16)-$(cut -c8-19 <<<"$base_id")"

# drop_old_image DOCKER_HOST ID: removes the copy a rebuild replaced (500 MB), unless a container still uses it.
drop_old_image() {
  [ -z "$2" ] || [ "$2" = "$(docker -H "$1" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" ] \
    || docker -H "$1" image rm "$2" >/dev/null 2>&1 || true
}

if [ "$(docker image inspect --format '{{index .Config.Labels "sciops.stamp"}}' "$image" 2>/dev/null)" != "$stamp" ]; then
  old=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  context=$(mktemp -d)
  trap 'rm -rf "$context"' EXIT

  cat >"$context/Dockerfile" <<'DOCKERFILE'
FROM local/debian:bookworm
# No main cluster at install time (the entry point makes one in PGDATA on first start); the sample
# configuration initdb copies listens on every address, as the official image's does.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-common \
  && sed -ri 's/#?(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
  && sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" /usr/share/postgresql/15/postgresql.conf.sample \
  && grep -q "^listen_addresses = '\*'" /usr/share/postgresql/15/postgresql.conf.sample \
  && apt-get clean && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /var/run/postgresql /var/lib/postgresql/data /docker-entrypoint-initdb.d \
  && chown postgres:postgres /var/run/postgresql /var/lib/postgresql/data \
  && chmod 2777 /var/run/postgresql && chmod 700 /var/lib/postgresql/data
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 \
  PGDATA=/var/lib/postgresql/data
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
# Fast shutdown (SIGINT): active sessions are ended, nothing is lost.
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
DOCKERFILE

  cat >"$context/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/bash
# Entry point in the manner of the official postgres image. `postgres ARGS` (or ARGS alone, when they start
# with a dash) runs the server with ARGS, after making the database cluster in PGDATA on the first start;
# any other command runs as given.
set -Eeuo pipefail

server=/usr/lib/postgresql/15/bin/postgres
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$#" -eq 0 ] || [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ] && [ "$1" != "$server" ]; then exec "$@"; fi
shift

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA" || true
  chmod 2777 /var/run/postgresql
  # A fresh named or bind-mounted directory may belong to root.
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chown postgres:postgres /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" postgres "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD:=}" "${POSTGRES_HOST_AUTH_METHOD:=}"
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    echo 'error: the database is not initialised and POSTGRES_PASSWORD is empty: set POSTGRES_PASSWORD' \
      '(or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without a password)' >&2
    exit 1
  fi
  pwfile=()
  if [ -n "$POSTGRES_PASSWORD" ]; then
    umask 077
    printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pgpass
    pwfile=(--pwfile=/tmp/pgpass)
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as in the official image
  initdb --username="$POSTGRES_USER" "${pwfile[@]}" ${POSTGRES_INITDB_ARGS:-}
  rm -f /tmp/pgpass
  auth=${POSTGRES_HOST_AUTH_METHOD:-$("$server" -C password_encryption "$@")}
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"

  # A server on the Unix socket only, with the given options (they may name the configuration file).
  PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -w start -o "$(printf '%q ' "$@" -c listen_addresses= -p 5432)" >/dev/null
  export PGUSER=$POSTGRES_USER PGPASSWORD=$POSTGRES_PASSWORD PGHOST=/var/run/postgresql
  psql=(psql -X -q -v ON_ERROR_STOP=1 --no-password --dbname postgres)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  psql+=(--dbname "$POSTGRES_DB")
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) echo "running $f"; "${psql[@]}" -f "$f" ;;
      *.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql[@]}" ;;
      *) if [ -e "$f" ]; then echo "ignoring $f"; fi ;;
    esac
  done
  unset PGUSER PGPASSWORD PGHOST
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$server" "$@"
ENTRYPOINT
  chmod 755 "$context/docker-entrypoint.sh"

  log "building $image (a minute, once)"
  DOCKER_BUILDKIT=0 timeout 900 docker build -q --label "sciops.stamp=$stamp" -t "$image" "$context" \
    >"$SCIOPS_TESTBED_DIR/postgres-image.log" 2>&1 || die "building $image failed; see $SCIOPS_TESTBED_DIR/postgres-image.log"
  log "built image $image"
  drop_old_image "${DOCKER_HOST:-unix:///var/run/docker.sock}" "$old"
fi

# The other nodes get this image by id, so a rebuilt one replaces their older copy.
for host in "$@"; do
  old=$(docker -H "$host" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  if [ "$old" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
    docker save "$image" | docker -H "$host" load >/dev/null || die "loading $image on $host failed"
    log "loaded $image on $host"
    drop_old_image "$host" "$old"
  fi
done

echo "$image"
