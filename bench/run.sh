#!/usr/bin/env bash
# Footprint bench: the daemon's NativeAOT build (scripts/publish.sh) against a bare Kestrel HTTPS
# baseline (bench/baseline) built the same way (-p:CvmNativeAot=true, src/NativeAot.props), and the
# Go anchor (bench/go: Go's standard net/http over TLS, built with Debian's Go), on 127.0.0.1 only.
# Measures cold start (median of 10), RSS idle and after 1,000 requests, wrk throughput and p99
# over TLS keep-alive (10 s, 2 threads, 32 connections), p99 while a bootstrap runs, and binary
# size. See bench/measure.py for the method; docs/footprint.md for recorded figures.
#
# Usage: bench/run.sh [measure.py options, e.g. --runs 10 --seconds 10 --load-limit 1.0]
# Needs: dotnet, python3, wrk and golang-go (installed from Debian when missing and run as root);
# root and cryptsetup for the KDF variant.
# Build output and results go to artifacts/bench/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in dotnet python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v go >/dev/null || missing+=(golang-go)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null
  else
    echo "bench: ${missing[*]} required (apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

out=$PWD/artifacts/bench
mkdir -p "$out"

echo "building the daemon (scripts/publish.sh)"
scripts/publish.sh "$out/daemon" > "$out/publish-daemon.log" 2>&1 || { cat "$out/publish-daemon.log"; exit 1; }
tail -1 "$out/publish-daemon.log"

echo "building the baseline the same way (NativeAOT, src/NativeAot.props)"
dotnet publish bench/baseline/Baseline.csproj -c Release -r linux-x64 -p:CvmNativeAot=true \
  -p:TreatWarningsAsErrors=true -o "$out/baseline" -nologo > "$out/publish-baseline.log" 2>&1 \
  || { cat "$out/publish-baseline.log"; exit 1; }
rm -f "$out/baseline/"*.dbg "$out/baseline/"*.pdb
echo "published $out/baseline/baseline ($(du -h "$out/baseline/baseline" | cut -f1))"

# Standard library only: nothing is fetched (GOPROXY=off), and no module cache is needed.
echo "building the Go anchor ($(go version))"
mkdir -p "$out/go"
(cd bench/go && GOPROXY=off GO111MODULE=off CGO_ENABLED=0 go build -trimpath -o "$out/go/go-peer" main.go)
echo "built $out/go/go-peer ($(du -h "$out/go/go-peer" | cut -f1))"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 bench/measure.py --daemon "$out/daemon/cvm-control" --baseline "$out/baseline/baseline" --go "$out/go/go-peer" \
  --out "$out/results-$stamp.json" "$@"
