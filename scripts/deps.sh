#!/usr/bin/env bash
# Installs the Debian packages a make target needs, when they are missing.
# Usage: scripts/deps.sh test|bench
set -euo pipefail

case "${1:-test}" in
  # One package a line, so a helper can add its own. What each is for:
  test)  pkgs=(
           php-cli php-soap   # PHP's SoapClient, a real SOAP client
           libsoap-lite-perl  # Perl's SOAP::Lite
           python3-zeep       # Python's zeep
           python3-suds       # Python's suds
           chromium           # a real browser on the OAuth pages (chromedp)
           postgresql         # the multi-node and store tests (scripts/postgres.sh)
         )
         # node-soap comes from npm (testdata/clients/node); any npm will do.
         command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
  bench) pkgs=(wrk)   # and node-soap from npm, for scripts/loadbench
         command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
  *) echo "usage: $0 test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "installing: ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
