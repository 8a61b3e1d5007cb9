#!/usr/bin/env bash
# Footprint bench: the daemon's published single-file build (scripts/publish.sh) against a bare
# Kestrel HTTPS baseline (bench/baseline) published with the same flags, on 127.0.0.1 only.
# Measures cold start (median of 10), RSS idle and after 1,000 requests, wrk throughput and p99
# over TLS keep-alive (10 s, 2 threads, 32 connections), p99 while a bootstrap runs, and binary
# size. See bench/measure.py for the method; docs/footprint.md for recorded figures.
#
# Usage: bench/run.sh [measure.py options, e.g. --runs 10 --seconds 10 --load-limit 1.0]
# Needs: dotnet, python3, wrk (apt-get install wrk); root and cryptsetup for the KDF variant.
# Build output and results go to artifacts/bench/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in dotnet python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >/dev/null
  else
    echo "bench: wrk is required (apt-get install wrk)" >&2
    exit 1
  fi
fi

out=$PWD/artifacts/bench
mkdir -p "$out"

echo "building the daemon (scripts/publish.sh)"
scripts/publish.sh "$out/daemon" > "$out/publish-daemon.log" 2>&1 || { cat "$out/publish-daemon.log"; exit 1; }
tail -1 "$out/publish-daemon.log"

echo "building the baseline with the same publish flags"
dotnet publish bench/baseline/Baseline.csproj -c Release -r linux-x64 --self-contained true \
  -p:PublishTrimmed=true -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=false \
  -p:PublishReadyToRun=true -p:DebugType=none -p:TreatWarningsAsErrors=true \
  -o "$out/baseline" -nologo > "$out/publish-baseline.log" 2>&1 || { cat "$out/publish-baseline.log"; exit 1; }
echo "published $out/baseline/baseline ($(du -h "$out/baseline/baseline" | cut -f1))"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 bench/measure.py --daemon "$out/daemon/cvm-control" --baseline "$out/baseline/baseline" \
  --out "$out/results-$stamp.json" "$@"
