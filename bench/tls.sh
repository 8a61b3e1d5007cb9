#!/usr/bin/env bash
# TLS bench (issue 14): connection rate and status latency with client authentication off, with a
# pinned key and with SPIFFE, and rotation latency over 20 rotations, all on 127.0.0.1. See
# bench/tls.py for the method and docs/tls.md for recorded figures.
# Usage: bench/tls.sh [tls.py options, e.g. --seconds 8 --rounds 2 --rotations 20]
# Needs: dotnet, python3, openssl. Output goes to artifacts/bench/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in dotnet python3 openssl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
out=$PWD/artifacts/bench
mkdir -p "$out"
if [ -z "${CVM_BIN-}" ]; then
  echo "building the daemon (scripts/publish.sh)"
  scripts/publish.sh "$out/daemon" > "$out/publish-daemon.log" 2>&1 || { cat "$out/publish-daemon.log"; exit 1; }
  CVM_BIN=$out/daemon/cvm-control
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
/usr/bin/python3 bench/tls.py --daemon "$CVM_BIN" --out "$out/tls-$stamp.json" "$@"
