#!/usr/bin/env bash
# Ensures a PostgreSQL server for sciops and its tests; prints the DATABASE_URL to use.
# DATABASE_URL given: it must answer. Otherwise: a private cluster of Debian's PostgreSQL on a loopback
# port, with a `sciops` role (CREATEDB, as dump/restore needs) owning a `sciops` database.
source "$(dirname "$0")/lib.sh"

if [ -n "${DATABASE_URL:-}" ]; then
  psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1 || die "DATABASE_URL does not answer: check host, port, user, password and database"
  echo "$DATABASE_URL"; exit 0
fi

PORT=${SCIOPS_PG_PORT:-55432}
PGDIR="$SCIOPS_TESTBED_DIR/postgres"
URL="postgres://sciops:sciops@127.0.0.1:$PORT/sciops"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then apt_install postgresql; bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); fi
command -v psql >/dev/null 2>&1 || apt_install postgresql-client

is_root || die "starting a local PostgreSQL needs root (it runs as the postgres user); or set DATABASE_URL"
as_pg() { runuser -u postgres -- "$@"; }
ready() { "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PORT"; }

if ! ready; then
  mkdir -p "$PGDIR"
  chown postgres: "$PGDIR"
  if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    log "initdb $PGDIR/data"
    as_pg "$bindir/initdb" -D "$PGDIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
  fi
  log "starting PostgreSQL on 127.0.0.1:$PORT (log: $PGDIR/postgres.log)"
  as_pg "$bindir/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgres.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PORT -k $PGDIR -c fsync=off -c synchronous_commit=off" start >/dev/null \
    || die "PostgreSQL did not start: see $PGDIR/postgres.log"
fi

psql_admin() { as_pg psql -h "$PGDIR" -p "$PORT" -U postgres -d postgres -Atqc "$1"; }
if [ "$(psql_admin "select 1 from pg_roles where rolname = 'sciops'")" != 1 ]; then
  psql_admin "create role sciops login createdb password 'sciops'" >/dev/null
fi
if [ "$(psql_admin "select 1 from pg_database where datname = 'sciops'")" != 1 ]; then
  psql_admin "create database sciops owner sciops" >/dev/null
fi
psql "$URL" -Atqc 'select 1' >/dev/null || die "PostgreSQL runs but $URL does not answer: see $PGDIR/postgres.log"
echo "$URL"
