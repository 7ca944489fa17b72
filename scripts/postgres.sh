#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests of oauth/postgres and
# the multi-node tests.
#
#   eval "$(scripts/postgres.sh start)"   # installs, inits, starts; prints the export line
#   scripts/postgres.sh stop              # stops the server, keeps its data (an outage)
#   scripts/postgres.sh start             # starts it again on the same data
#   scripts/postgres.sh destroy           # stops it and deletes its directory
#
# start installs Debian's postgresql when no /usr/lib/postgresql/*/bin/pg_ctl
# exists (apt-get, as root or via sudo), creates a cluster in $HELLOGW_PG_DIR
# (default /tmp/hellogw-postgres) owned by the postgres user, listening on
# 127.0.0.1:$HELLOGW_PG_PORT (default 54329) with its Unix socket in the same
# directory, creates the role and database "hellogw" with a random password, waits
# until the server accepts connections and prints on stdout, and only there:
#
#   export HELLOGW_TEST_POSTGRES_URL=postgres://hellogw:…@127.0.0.1:54329/hellogw?sslmode=disable
#
# It is idempotent: a running server is reused, a stopped one started on its data.
# Logs go to stderr and $HELLOGW_PG_DIR/server.log.
#
# The outage test stops and starts the server through this script, so it runs
# apart from the other tests, which it would disturb:
#
#   HELLOGW_TEST_POSTGRES_CTL=$PWD/scripts/postgres.sh go test -run '^TestOutage$' ./oauth/postgres/
set -euo pipefail

dir=${HELLOGW_PG_DIR:-/tmp/hellogw-postgres}
port=${HELLOGW_PG_PORT:-54329}
data=$dir/data

log() { echo "postgres.sh: $*" >&2; }

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

# bindir prints the newest /usr/lib/postgresql/*/bin holding pg_ctl.
bindir() {
  local b found=
  for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    if [ -x "$b/pg_ctl" ]; then found=$b; fi
  done
  [ -n "$found" ] && echo "$found"
}

install() {
  bindir >/dev/null && return 0
  log "installing postgresql"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # Debian's package starts a cluster of its own on 5432; ours does not need it.
  bindir >/dev/null || { log "no pg_ctl under /usr/lib/postgresql/*/bin after installing"; exit 1; }
}

# as_pg runs a command as the postgres user when we are root (PostgreSQL
# refuses to run as root), and as ourselves otherwise.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() { as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

psql_admin() {
  as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres "$@"
}

start() {
  install
  bin=$(bindir)
  if [ ! -s "$data/PG_VERSION" ]; then
    log "creating a cluster in $data"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    # The password of the hellogw role: random, kept beside the cluster.
    as_pg sh -c "umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >'$dir/password'"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if running; then
    log "reusing the server running on $data"
  else
    log "starting on 127.0.0.1:$port"
    as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 9>&-  # the server must not hold our lock
  fi
  for _ in $(seq 1 60); do
    as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
  as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" || { log "server does not accept connections; see $dir/server.log"; exit 1; }

  local password
  password=$(as_pg cat "$dir/password")
  if [ "$(psql_admin -tA -c "SELECT 1 FROM pg_roles WHERE rolname = 'hellogw'")" != 1 ]; then
    psql_admin -c "CREATE ROLE hellogw LOGIN PASSWORD '$password'"
  fi
  if [ "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = 'hellogw'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE hellogw OWNER hellogw"
  fi
  echo "export HELLOGW_TEST_POSTGRES_URL=postgres://hellogw:$password@127.0.0.1:$port/hellogw?sslmode=disable"
}

stop() {
  bin=$(bindir) || { log "postgresql is not installed"; return 0; }
  if [ -s "$data/PG_VERSION" ] && running; then
    log "stopping the server on $data"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  else
    log "not running"
  fi
}

# Serialize concurrent invocations (two test runs starting the server at once).
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9

case "${1:-start}" in
  start)   start ;;
  stop)    stop ;;
  destroy) stop; rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop|destroy" >&2; exit 2 ;;
esac
