#!/usr/bin/env bash
# Installs the Debian packages a make target needs, when they are missing.
# Usage: scripts/deps.sh test|bench
set -euo pipefail

case "${1:-test}" in
  # real SOAP clients for the integration tests: PHP, Perl, node-soap;
  # Chromium for the OAuth pages
  test)  pkgs=(php-cli php-soap libsoap-lite-perl chromium)
         command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
  bench) pkgs=(wrk) ;;
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
