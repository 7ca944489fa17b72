#!/usr/bin/env bash
# Load test: wrk against bin/hellogw (SOAP 1.1 and JSON) and, in the same
# run, against a bare net/http server answering a constant body; prints
# requests/s, the ratios and hellogw's peak resident memory.
#
# The server gets core 0 and wrk core 1 (taskset), so neither steals the
# other's CPU. Env: DURATION (10s), CONNS (64).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
HG_ADDR=127.0.0.1:18180
BARE_ADDR=127.0.0.1:18181
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# pin CPU CMD…: exec CMD on one CPU, so that `pin … &` leaves $! = CMD's pid.
pin() { if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

go build -o "$tmp/bareserver" ./scripts/bareserver
pin 0 "$tmp/bareserver" -addr "$BARE_ADDR" & pids+=($!)
pin 0 ./bin/hellogw -addr "$HG_ADDR" -log-format json 2>"$tmp/hellogw.log" & hg=$!; pids+=($hg)
for _ in $(seq 50); do
  curl -fsS "http://$HG_ADDR/readyz" >/dev/null 2>&1 && curl -fsS "http://$BARE_ADDR/" >/dev/null 2>&1 && break
  sleep 0.1
done

printf '%s' '{"firstName":"Ada"}' >"$tmp/json"
cat >"$tmp/soap" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:examples:helloservice" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:sayHello><firstName xsi:type="xsd:string">Ada</firstName></ns1:sayHello></SOAP-ENV:Body></SOAP-ENV:Envelope>
XML

# run NAME URL BODY CONTENT_TYPE [SOAPACTION] → prints requests/s
run() {
  local out
  out=$(export BODY="$2" CONTENT_TYPE="$3" SOAPACTION="${4:-}"; pin 1 wrk -t1 -c"$CONNS" -d"$DURATION" -s scripts/wrk/post.lua "$1")
  if ! grep -q '^non200=0$' <<<"$out" || grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
    echo "errors during load against $1:" >&2; echo "$out" >&2; exit 1
  fi
  awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

# warm up, then measure each in turn
run "http://$BARE_ADDR/" "$tmp/json" application/json >/dev/null
bare=$(run "http://$BARE_ADDR/" "$tmp/json" application/json)
json=$(run "http://$HG_ADDR/sayHello" "$tmp/json" application/json)
soap=$(run "http://$HG_ADDR/SayHello/" "$tmp/soap" "text/xml; charset=utf-8" '"sayHello"')
rss_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$hg/status")

awk -v bare="$bare" -v json="$json" -v soap="$soap" -v rss="$rss_kib" -v conns="$CONNS" 'BEGIN {
  printf "%-28s %12s %8s %8s\n", "target", "requests/s", "ratio", "goal"
  printf "%-28s %12.0f %8s %8s\n", "bare net/http (baseline)", bare, "1.00", ""
  printf "%-28s %12.0f %8.2f %8s\n", "hellogw JSON", json, json/bare, ">=0.80"
  printf "%-28s %12.0f %8.2f %8s\n", "hellogw SOAP 1.1", soap, soap/bare, ">=0.60"
  printf "hellogw peak RSS at %d connections: %.1f MiB (goal < 64 MiB)\n", conns, rss/1024
  ok = json/bare >= 0.8 && soap/bare >= 0.6 && rss/1024 < 64
  print (ok ? "targets: met" : "targets: NOT met")
}'
