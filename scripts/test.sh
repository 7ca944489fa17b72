#!/usr/bin/env bash
# make test: every stage of the test suite, each timed; the times are printed
# at the end, also when a stage fails or the run is interrupted.
#
# Two throwaway PostgreSQL servers (scripts/postgres.sh), each in a folder of
# its own on a free port, are stopped and deleted on the way out, whatever the
# outcome (trap on EXIT, INT and TERM), so nothing is left listening: one for
# the tests, one for the outage tests, which stop and start theirs and so
# can run beside the others.
#
# To add a stage, add a `stage NAME COMMAND…` line below (it runs alone and
# the run stops when it fails), or a `stage_bg NAME COMMAND…` line to run it
# beside what follows, up to the next `stage_wait`.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
# Flags of every go test run (make test GOTESTFLAGS=-v, for example).
read -r -a gotestflags <<<"${GOTESTFLAGS:-}"

# Every stage runs as its own process group (job control), so an interrupt
# reaches its whole tree: go test, the test binaries, what they started.
set -m

# now prints the time in microseconds (bash 5's EPOCHREALTIME, no bc needed);
# secs prints the seconds since a time now printed.
now() { echo "${EPOCHREALTIME/./}"; }
secs() { local d=$(($(now) - $1)); printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000)); }

work=$(mktemp -d "${TMPDIR:-/tmp}/hellogw-test.XXXXXX")
timings=$work/timings # "NAME SECONDS STATUS" a line, as each stage ends
declare -A running=() # pid → stage name

# stage_bg starts a stage in the background; it notes its own time.
stage_bg() {
  local name=$1
  shift
  echo "=== stage $name" >&2
  (
    t0=$(now)
    status=0
    "$@" || status=$?
    echo "$name $(secs "$t0") $status" >>"$timings"
    exit "$status"
  ) &
  running[$!]=$name
}

# stage_wait waits for every stage started; the run stops if one failed.
stage_wait() {
  local pid failed=
  for pid in "${!running[@]}"; do
    if ! wait "$pid"; then failed+=" ${running[$pid]}"; fi
    unset "running[$pid]"
  done
  [ -z "$failed" ] || { echo "=== stage failed:$failed" >&2; exit 1; }
}

# stage runs a stage and waits for it.
stage() {
  stage_bg "$@"
  stage_wait
}

finish() {
  local status=$? pid dir
  set +e
  for pid in "${!running[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  wait 2>/dev/null
  for dir in "$work"/*.dir; do
    [ -s "$dir" ] && HELLOGW_PG_DIR=$(cat "$dir") ./scripts/postgres.sh destroy
  done
  echo >&2
  echo "stage times (s):" >&2
  local name secs st
  while read -r name secs st; do
    if [ "$st" = 0 ]; then st=; else st="  (failed: exit $st)"; fi
    printf '  %-10s %7s%s\n' "$name" "$secs" "$st" >&2
  done <"$timings"
  for pid in "${!running[@]}"; do printf '  %-10s interrupted\n' "${running[$pid]}" >&2; done
  printf '  %-10s %7s\n' total "$(secs "$start")" >&2
  rm -rf "$work"
  exit "$status"
}
start=$(now)
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gofmt_check() {
  local bad
  bad=$(gofmt -l $(git ls-files '*.go' | grep -v '^gen/'))
  [ -z "$bad" ] || { echo "not gofmt'ed:" >&2; echo "$bad" >&2; return 1; }
}

# start_postgres NAME starts a server and writes its export lines to
# $work/NAME.env; its folder is noted first, for the trap to delete.
start_postgres() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/hellogw-pg.XXXXXX")
  echo "$dir" >"$work/$1.dir"
  HELLOGW_PG_DIR=$dir ./scripts/postgres.sh start >"$work/$1.env"
}

# pg_env prints the variables of server NAME as env arguments.
pg_env() { sed 's/^export //' "$work/$1.env"; }

stage deps ./scripts/deps.sh test
stage gofmt gofmt_check
# vet beside the servers' start-up: none needs the others.
stage_bg vet "$GO" vet ./...
stage_bg pg-tests start_postgres tests
stage_bg pg-outage start_postgres outage
stage_wait
# Everything except the outage tests, on one server; beside them, the
# outage tests stop and start a server of their own.
stage_bg tests env $(pg_env tests) \
  "$GO" test -race -count=1 -timeout 15m -skip '^TestOutage' "${gotestflags[@]}" ./...
stage_bg outage env $(pg_env outage) HELLOGW_TEST_POSTGRES_CTL="$PWD/scripts/postgres.sh" \
  "$GO" test -race -count=1 -p 1 -timeout 5m -run '^TestOutage' "${gotestflags[@]}" ./oauth/postgres .
stage_wait
# A count, not a duration: with a duration, go1.26's fuzz coordinator can
# fail a target with a bare "context deadline exceeded" when the time runs
# out while a starved worker is mid-call (golang/go#75804, fixed in go1.27);
# a count has no deadline to race. 3000 calls take 1-12 s a target here.
stage fuzz make --no-print-directory fuzz GO="$GO" FUZZTIME=3000x
