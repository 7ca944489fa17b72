#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests of oauth/postgres and
# the multi-node tests: its own folder, a free port, gone when you are done.
#
#   scripts/postgres.sh run CMD ARGS…     # start one, run CMD with it, destroy it (also on failure or Ctrl-C)
#   eval "$(scripts/postgres.sh start)"   # start one; prints the export lines (see below)
#   scripts/postgres.sh stop              # stops the server of $HELLOGW_PG_DIR, keeps its data (an outage)
#   scripts/postgres.sh start             # with $HELLOGW_PG_DIR set: starts it again, same data, same port
#   scripts/postgres.sh destroy           # stops it and deletes $HELLOGW_PG_DIR
#
# start installs Debian's postgresql when no /usr/lib/postgresql/*/bin/pg_ctl
# exists (apt-get, as root or via sudo). Without $HELLOGW_PG_DIR it creates a new
# folder (mktemp -d, under $TMPDIR or /tmp) holding the cluster, its Unix socket,
# its log and the port it listens on: a free port on 127.0.0.1 unless
# $HELLOGW_PG_PORT names one. It creates the role and database "hellogw" with a
# random password, waits until the server accepts connections and prints on
# stdout, and only there:
#
#   export HELLOGW_PG_DIR=/tmp/hellogw-pg.XXXXXX
#   export HELLOGW_TEST_POSTGRES_URL=postgres://hellogw:…@127.0.0.1:PORT/hellogw?sslmode=disable
#
# Two runs on one machine thus never share a server. With $HELLOGW_PG_DIR set,
# start reuses that cluster (running or stopped) on the port it was created with.
# Logs go to stderr and $HELLOGW_PG_DIR/server.log.
#
# The outage tests stop and start the server through this script, named by
# HELLOGW_TEST_POSTGRES_CTL; they find it through $HELLOGW_PG_DIR:
#
#   scripts/postgres.sh run env HELLOGW_TEST_POSTGRES_CTL=$PWD/scripts/postgres.sh \
#     go test -run '^TestOutage' ./oauth/postgres/
set -euo pipefail

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

running() { [ -s "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

psql_admin() {
  as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres "$@"
}

# listening reports whether something accepts TCP connections on 127.0.0.1:$1
# (bash's /dev/tcp, so no extra tool is needed).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pg_start starts the server on $port; it fails when the port is taken.
pg_start() {
  as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 9>&- # the server must not hold our lock
}

create() {
  log "creating a cluster in $dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  # The password of the hellogw role: random, kept beside the cluster.
  as_pg sh -c "umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >'$dir/password'"
  as_pg "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # A test server: durability is not wanted, speed is.
  cat >>"$data/postgresql.conf" <<'EOF'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
EOF
}

start() {
  install
  bin=$(bindir)
  if [ ! -s "$data/PG_VERSION" ]; then create; fi
  if running; then
    port=$(cat "$dir/port")
    log "reusing the server running on 127.0.0.1:$port"
  elif [ -s "$dir/port" ]; then
    port=$(cat "$dir/port") # a restart (after an outage) keeps the URL the tests hold
    log "starting again on 127.0.0.1:$port"
    pg_start || { log "cannot start on port $port; see $dir/server.log"; exit 1; }
  elif [ -n "${HELLOGW_PG_PORT:-}" ]; then
    port=$HELLOGW_PG_PORT
    log "starting on 127.0.0.1:$port"
    pg_start || { log "cannot start on port $port; see $dir/server.log"; exit 1; }
    echo "$port" >"$dir/port"
  else
    # A free port: one nobody listens on, and if another process takes it
    # between the check and the start, the start fails and we try another.
    local tries
    for tries in $(seq 1 20); do
      port=$((20000 + RANDOM % 40000))
      listening "$port" && continue
      log "starting on 127.0.0.1:$port"
      if pg_start; then echo "$port" >"$dir/port"; break; fi
      port=
    done
    [ -n "$port" ] || { log "no free port after $tries tries; see $dir/server.log"; exit 1; }
  fi
  for _ in $(seq 1 60); do
    as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.2
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
  echo "export HELLOGW_PG_DIR=$dir"
  echo "export HELLOGW_TEST_POSTGRES_URL=postgres://hellogw:$password@127.0.0.1:$port/hellogw?sslmode=disable"
}

stop() {
  bin=$(bindir) || { log "postgresql is not installed"; return 0; }
  if running; then
    log "stopping the server on $dir"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  else
    log "not running"
  fi
}

# destroy stops the server and deletes its folder; it is what the trap of run
# (and of scripts/test.sh) calls, so it must not fail half-way.
destroy() {
  stop || true
  if [ -d "$dir" ]; then
    # A server that did not stop (pg_ctl failed) must not outlive its folder.
    if [ -s "$data/postmaster.pid" ]; then
      kill -KILL "$(head -1 "$data/postmaster.pid")" 2>/dev/null || true
    fi
    rm -rf "$dir"
  fi
}

# run starts a fresh server, runs "$@" with its exports, and destroys it when
# the command ends, fails, or we are interrupted.
run() {
  [ $# -gt 0 ] || { echo "usage: $0 run CMD [ARGS…]" >&2; exit 2; }
  local exports status=0 child
  exports=$("$0" start) || exit 1
  eval "$exports"
  trap '"$0" destroy' EXIT
  # The command runs in the background, as a process group of its own (job
  # control), so that a signal is handled at once (bash runs traps only
  # between commands) and passed on to the command's whole tree.
  set -m
  "$@" &
  child=$!
  trap 'kill -INT -- -$child 2>/dev/null; wait $child; exit 130' INT
  trap 'kill -TERM -- -$child 2>/dev/null; wait $child; exit 143' TERM
  wait "$child" || status=$?
  exit "$status"
}

cmd=${1:-start}
[ $# -gt 0 ] && shift
case "$cmd" in
  run) run "$@" ;;
  start | stop | destroy) ;;
  *) echo "usage: $0 start|stop|destroy|run CMD…" >&2; exit 2 ;;
esac

if [ -n "${HELLOGW_PG_DIR:-}" ]; then
  dir=$HELLOGW_PG_DIR
elif [ "$cmd" = start ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/hellogw-pg.XXXXXX")
else
  echo "$0 $cmd: set HELLOGW_PG_DIR to the folder that start printed" >&2
  exit 2
fi
data=$dir/data

# Serialize the commands on one server (the outage tests of two packages).
if [ -d "$dir" ]; then
  exec 9>>"$dir/.lock"
  flock 9
fi

case "$cmd" in
  start) mkdir -p "$dir"; start ;;
  stop) stop ;;
  destroy) destroy ;;
esac
