#!/usr/bin/env bash
# Builds <outdir>/cvm-control: a self-contained, trimmed, single-file linux executable that runs on a
# stock Debian 12 without .NET installed. Trim and AOT analyzer warnings are errors.
# (NativeAOT itself needs the ILCompiler pack, which this machine's registry does not serve; the Nix
# build does AOT.)
# Usage: scripts/publish.sh <outdir> [rid]   (rid defaults to linux-x64)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/publish.sh <outdir> [rid]}
rid=${2:-linux-x64}
mkdir -p "$out"
out=$(cd "$out" && pwd)

dotnet publish src/CvmControl/CvmControl.csproj -c Release -r "$rid" --self-contained true \
  -p:PublishTrimmed=true -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=false \
  -p:PublishReadyToRun=true -p:DebugType=none -p:TreatWarningsAsErrors=true \
  -o "$out" -nologo 2>&1 | tee "$out/.publish.log"

# Zero trim warnings, counted from the build log (warnings are errors, this is belt and braces).
if grep -E 'warning IL[0-9]+' "$out/.publish.log"; then
  echo "publish: trim warnings found" >&2
  exit 1
fi
rm -f "$out/.publish.log"
test -x "$out/cvm-control"
echo "published $out/cvm-control ($(du -h "$out/cvm-control" | cut -f1))"
