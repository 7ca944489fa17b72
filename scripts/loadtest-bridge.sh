#!/usr/bin/env bash
# Bridge load test: wrk against an upstream (a hellogw on its own core, the
# JSON API and SOAP service) directly, and in the same run through a second
# hellogw bridging to it (backend.kind json, then soap); prints requests/s,
# median and p99 latency of each, and what going through hellogw costs.
#
# Both servers share core 0 and wrk gets core 1 (taskset), so "through
# hellogw" pays for the bridge's CPU as well as the upstream's: the
# requests/s ratio is the capacity a bridge costs on one core, the latency
# difference the time it adds to each call.
# Env: DURATION (10s), CONNS (16).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
UP_ADDR=127.0.0.1:18190
JSON_ADDR=127.0.0.1:18191
SOAP_ADDR=127.0.0.1:18192
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

pin() { if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

printf 'backend: {kind: json, url: "http://%s"}\n' "$UP_ADDR" >"$tmp/json.yaml"
printf 'backend: {kind: soap, url: "http://%s/SayHello/"}\n' "$UP_ADDR" >"$tmp/soap.yaml"
pin 0 ./bin/hellogw -addr "$UP_ADDR" -log-format json 2>"$tmp/up.log" & pids+=($!)
pin 0 ./bin/hellogw -addr "$JSON_ADDR" -config "$tmp/json.yaml" -log-format json 2>"$tmp/json.log" & pids+=($!)
pin 0 ./bin/hellogw -addr "$SOAP_ADDR" -config "$tmp/soap.yaml" -log-format json 2>"$tmp/soap.log" & pids+=($!)
for addr in "$UP_ADDR" "$JSON_ADDR" "$SOAP_ADDR"; do
  for _ in $(seq 50); do curl -fsS "http://$addr/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
done

printf '%s' '{"firstName":"Ada"}' >"$tmp/json"
cat >"$tmp/soap" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:examples:helloservice" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:sayHello><firstName xsi:type="xsd:string">Ada</firstName></ns1:sayHello></SOAP-ENV:Body></SOAP-ENV:Envelope>
XML

# run URL BODY CONTENT_TYPE [SOAPACTION] → prints "requests/s p50_ms p99_ms"
run() {
  local out
  out=$(export BODY="$2" CONTENT_TYPE="$3" SOAPACTION="${4:-}"; pin 1 wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s scripts/wrk/post.lua "$1")
  if ! grep -q '^non200=0$' <<<"$out" || grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
    echo "errors during load against $1:" >&2; echo "$out" >&2; exit 1
  fi
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /^Requests\/sec:/ {rps = $2} $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)}
       END {printf "%s %.3f %.3f\n", rps, p50, p99}' <<<"$out"
}

run "http://$UP_ADDR/sayHello" "$tmp/json" application/json >/dev/null # warm up
json_direct=$(run "http://$UP_ADDR/sayHello" "$tmp/json" application/json)
json_bridge=$(run "http://$JSON_ADDR/sayHello" "$tmp/json" application/json)
soap_direct=$(run "http://$UP_ADDR/SayHello/" "$tmp/soap" "text/xml; charset=utf-8" '"sayHello"')
soap_bridge=$(run "http://$SOAP_ADDR/SayHello/" "$tmp/soap" "text/xml; charset=utf-8" '"sayHello"')

printf '%s\n%s\n%s\n%s\n' "$json_direct" "$json_bridge" "$soap_direct" "$soap_bridge" | awk -v conns="$CONNS" '
  { rps[NR] = $1; p50[NR] = $2; p99[NR] = $3 }
  END {
    split("JSON upstream, direct|JSON via hellogw (json backend)|SOAP upstream, direct|SOAP via hellogw (soap backend)", name, "|")
    printf "%-34s %11s %9s %9s\n", "target (" conns " connections)", "requests/s", "p50 ms", "p99 ms"
    for (i = 1; i <= 4; i++) printf "%-34s %11.0f %9.3f %9.3f\n", name[i], rps[i], p50[i], p99[i]
    printf "bridge overhead, JSON: %.2fx the throughput, %+.3f ms median, %+.3f ms p99\n", rps[2]/rps[1], p50[2]-p50[1], p99[2]-p99[1]
    printf "bridge overhead, SOAP: %.2fx the throughput, %+.3f ms median, %+.3f ms p99\n", rps[4]/rps[3], p50[4]-p50[3], p99[4]-p99[3]
  }'
