#!/usr/bin/env bash
# make test: every stage of the test suite, each timed; the times are printed
# at the end, also when a stage fails or the run is interrupted.
#
# A throwaway PostgreSQL (scripts/postgres.sh) is started in a folder of its
# own on a free port, and stopped and deleted on the way out, whatever the
# outcome (trap on EXIT, INT and TERM), so nothing is left listening.
#
# To add a stage, add a `stage NAME COMMAND…` line below; it stops the run
# when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
# Flags of every go test run (make test GOTESTFLAGS=-v, for example).
read -r -a gotestflags <<<"${GOTESTFLAGS:-}"

names=() times=()
current= child=
# Every stage runs as its own process group (job control), so an interrupt
# reaches its whole tree: go test, the test binaries, what they started.
set -m

# now prints the time in microseconds (bash 5's EPOCHREALTIME, no bc needed);
# secs prints the seconds since a time now printed.
now() { echo "${EPOCHREALTIME/./}"; }
secs() { local d=$(($(now) - $1)); printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000)); }

stage() {
  local name=$1 t0 status=0
  shift
  current=$name
  echo "=== stage $name" >&2
  t0=$(now)
  "$@" &
  child=$!
  wait "$child" || status=$?
  child=
  names+=("$name")
  times+=("$(secs "$t0")")
  current=
  [ "$status" -eq 0 ] || { echo "=== stage $name failed (exit $status)" >&2; exit "$status"; }
}

pg_exports=
finish() {
  local status=$?
  set +e
  if [ -n "$child" ]; then kill -TERM -- "-$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
  if [ -n "$pg_exports" ]; then
    ( eval "$pg_exports" && ./scripts/postgres.sh destroy )
  fi
  echo >&2
  echo "stage times (s):" >&2
  local i
  for i in "${!names[@]}"; do printf '  %-10s %7s\n' "${names[$i]}" "${times[$i]}" >&2; done
  [ -z "$current" ] || printf '  %-10s interrupted\n' "$current" >&2
  printf '  %-10s %7s\n' total "$(secs "$start")" >&2
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

start_postgres() {
  pg_exports=$(./scripts/postgres.sh start)
  eval "$pg_exports"
}

stage deps ./scripts/deps.sh test
stage gofmt gofmt_check
stage vet "$GO" vet ./...
t0=$(now)
start_postgres # not a background stage: its exports must reach this shell
names+=(postgres) times+=("$(secs "$t0")")
# Everything except the outage tests, which stop the server the others use.
stage tests "$GO" test -race -count=1 -timeout 15m -skip '^TestOutage' "${gotestflags[@]}" ./...
stage fuzz make --no-print-directory fuzz GO="$GO" FUZZTIME=10s
stage outage env HELLOGW_TEST_POSTGRES_CTL="$PWD/scripts/postgres.sh" \
  "$GO" test -race -count=1 -p 1 -timeout 5m -run '^TestOutage' "${gotestflags[@]}" ./oauth/postgres .
