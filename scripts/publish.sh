#!/usr/bin/env bash
# Builds <outdir>/cvm-control: the NativeAOT executable for linux-x64 (or the given glibc RID). It
# needs only glibc and the system's libssl at run time. This is the binary CI tests: the VM
# scenarios, the bench and the packaging checks all run it.
#
# The AOT switches are not here: -p:CvmNativeAot=true turns on the property group in
# src/NativeAot.props, the same one nix/package.nix turns on. Every trim and AOT warning (IL2xxx,
# IL3xxx) is an error, and the build log is checked for any that slipped through.
#
# If the NativeAOT packs cannot be restored, this fails with one line naming the pack; it never
# falls back to another kind of build on its own. The ReadyToRun single-file build of earlier
# releases is still there as an explicit fallback, for a machine without the packs or a C
# toolchain: scripts/publish.sh <outdir> --ready-to-run.
#
# Usage: scripts/publish.sh <outdir> [rid] [--ready-to-run]   (rid defaults to linux-x64)
set -euo pipefail
cd "$(dirname "$0")/.."

out= rid= mode=aot
for arg in "$@"; do
  case $arg in
    --ready-to-run) mode=r2r ;;
    -*) echo "usage: scripts/publish.sh <outdir> [rid] [--ready-to-run]" >&2; exit 2 ;;
    *) if [ -z "$out" ]; then out=$arg; elif [ -z "$rid" ]; then rid=$arg; else echo "publish: unexpected argument $arg" >&2; exit 2; fi ;;
  esac
done
[ -n "$out" ] || { echo "usage: scripts/publish.sh <outdir> [rid] [--ready-to-run]" >&2; exit 2; }
rid=${rid:-linux-x64}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

if [ "$mode" = r2r ]; then
  dotnet publish src/CvmControl/CvmControl.csproj -c Release -r "$rid" --self-contained true \
    -p:PublishTrimmed=true -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=false \
    -p:PublishReadyToRun=true -p:DebugType=none -p:TreatWarningsAsErrors=true \
    -o "$out" -nologo > "$log" 2>&1 || { cat "$log"; echo "publish: ReadyToRun build failed" >&2; exit 1; }
  if grep -E 'warning IL[0-9]+' "$log"; then echo "publish: trim warnings found" >&2; exit 1; fi
  test -x "$out/cvm-control"
  echo "published $out/cvm-control (ReadyToRun single-file fallback, $(du -h "$out/cvm-control" | cut -f1))"
  exit 0
fi

# The ILCompiler links with the system's C toolchain (clang if on PATH, else gcc) and strips with
# objcopy. Install them as the project installs everything else, when missing and allowed to.
if ! { command -v clang >/dev/null || command -v gcc >/dev/null; } || ! command -v objcopy >/dev/null \
  || [ ! -e /usr/include/zlib.h ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "publish: installing the C toolchain NativeAOT links with (gcc, binutils, zlib1g-dev)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev binutils zlib1g-dev; } > "$log" 2>&1 \
      || { cat "$log" >&2; echo "publish: could not install gcc, binutils and zlib1g-dev" >&2; exit 1; }
  else
    echo "publish: NativeAOT needs clang or gcc, objcopy and zlib headers (apt-get install gcc binutils zlib1g-dev)" >&2
    exit 1
  fi
fi

# Restore first, on its own, so that a pack the registry cannot supply is named in one line.
if ! dotnet restore src/CvmControl/CvmControl.csproj -r "$rid" -p:CvmNativeAot=true -nologo > "$log" 2>&1; then
  pack=$(grep -oiE "(runtime\.[a-z0-9-]+\.Microsoft\.DotNet\.ILCompiler|Microsoft\.DotNet\.ILCompiler|Microsoft\.NETCore\.App\.Runtime\.NativeAOT\.[a-z0-9-]+)" "$log" | head -1 || true)
  if [ -n "$pack" ]; then
    echo "publish: cannot restore the NativeAOT pack $pack for $rid from the configured NuGet sources; no fallback build is made" >&2
  else
    cat "$log" >&2
    echo "publish: restore failed" >&2
  fi
  exit 1
fi

if ! dotnet publish src/CvmControl/CvmControl.csproj -c Release -r "$rid" --no-restore \
  -p:CvmNativeAot=true -p:TreatWarningsAsErrors=true -o "$out" -nologo > "$log" 2>&1; then
  cat "$log"
  echo "publish: NativeAOT build failed" >&2
  exit 1
fi
# Zero trim and AOT warnings, counted from the build log (they are errors; this is belt and braces).
if grep -E 'warning IL[0-9]+' "$log"; then
  echo "publish: trim or AOT warnings found" >&2
  exit 1
fi
# Only the executable ships; symbols stay out of the output as in the Nix package.
rm -f "$out"/*.dbg "$out"/*.pdb
test -x "$out/cvm-control"
# Not "readelf | grep -q" under pipefail: grep -q quits at the first match, and readelf, still
# writing, then dies of SIGPIPE and fails the pipeline (it did, under load).
if ! grep -q __managedcode <<< "$(readelf -SW "$out/cvm-control")"; then
  echo "publish: $out/cvm-control has no __managedcode section; it is not a NativeAOT binary" >&2
  exit 1
fi
echo "published $out/cvm-control (NativeAOT, $rid, $(du -h "$out/cvm-control" | cut -f1), 0 trim/AOT warnings)"
