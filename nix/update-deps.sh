#!/usr/bin/env bash
# Regenerates nix/deps.json, the NuGet lock file of the Nix build (buildDotnetModule's nugetDeps).
#
# How: restore the daemon and its unit tests exactly as nix/package.nix does (Release, self-contained,
# --runtime linux-x64, linux-arm64 and their musl twins, -p:CvmNativeAot=true) in a scratch copy of the repo, read the
# package list from each project.assets.json, and hash each .nupkg as it sits in the local NuGet
# cache (~/.nuget/packages, or $NUGET_PACKAGES). Hashes are "sha256-" + base64(SHA-256 of the .nupkg),
# the form nixpkgs' nuget-to-json writes. Nothing is fetched by this script itself; dotnet restore
# fills the cache from the configured registry when a package is missing there.
#
# Left out: the packs that nixpkgs' .NET SDK supplies itself (dotnet-sdk.packages/targetPackages):
# the ILCompiler, the NativeAOT/runtime/host/crossgen2 packs, ILLink.Tasks and the reference packs.
#
# The restore is allowed to fail only because one of those SDK packs is missing from the registry
# (this machine's registry serves the glibc NativeAOT packs but not the musl ones,
# Microsoft.NETCore.App.Runtime.NativeAOT.linux-musl-<arch> for instance); NuGet still writes a
# complete assets file then. Any other restore error fails the script.
#
# Usage: nix/update-deps.sh [output]   (default nix/deps.json)
#        nix/update-deps.sh --check    (exit 1 if nix/deps.json is out of date)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

mode=write
out=$repo/nix/deps.json
case "${1-}" in
  --check) mode=check ;;
  "") ;;
  *) out=$(realpath -m "$1") ;;
esac

for tool in dotnet jq openssl base64 git tar; do
  command -v "$tool" >/dev/null || { echo "update-deps: $tool is required" >&2; exit 1; }
done

rids=(linux-x64 linux-arm64 linux-musl-x64 linux-musl-arm64)
projects=(src/CvmControl/CvmControl.csproj tests/CvmControl.Tests/CvmControl.Tests.csproj)
# Case-insensitive: the package ids the SDK brings along, never listed in deps.json. The glibc
# ILCompiler packs are the host packs of the x86_64-linux and aarch64-linux builders.
sdk_supplied='^(microsoft\.dotnet\.ilcompiler|runtime\.linux-(x64|arm64)\.microsoft\.dotnet\.ilcompiler|microsoft\.net\.illink\.tasks|microsoft\.netcore\.app\.(ref|runtime\..+|host\..+|crossgen2\..+)|microsoft\.aspnetcore\.app\.(ref|runtime\..+)|microsoft\.netcore\.dotnetapphost|runtime\.[^.]+\.microsoft\.netcore\.dotnetapphost)$'

static_only='^runtime\.linux-musl-[^.]+\.microsoft\.dotnet\.ilcompiler$'

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# A scratch copy of the sources (tracked and new files, minus .gitignore'd bin/ obj/ artifacts/), so
# that the restore neither reads nor overwrites the working tree's obj/ directories. global.json is
# dropped, as the Nix build drops it: the SDK version comes from the nixpkgs pin there.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$scratch"
rm -f "$scratch/global.json"

list=$scratch/packages.tsv
: > "$list"
: > "$scratch/tolerated"
: > "$scratch/static-missing"
for rid in "${rids[@]}"; do
  for project in "${projects[@]}"; do
    log=$scratch/restore.log
    echo "update-deps: restoring $project for $rid" >&2
    # Same switches as nixpkgs' dotnetConfigureHook plus the package's dotnetFlags.
    if ! (cd "$scratch" && dotnet restore "$project" --runtime "$rid" \
          -p:SelfContained=true -p:CvmNativeAot=true \
          -p:ContinuousIntegrationBuild=true -p:Deterministic=true -p:NuGetAudit=false) > "$log" 2>&1; then
      echo "update-deps: restore of $project for $rid reported errors; checking that only SDK packs are missing" >&2
    fi
    assets_dirs=("$scratch/$(dirname "$project")/obj" "$scratch/src/CvmControl/obj" "$scratch/src/CvmControl.Api/obj")
    for dir in "${assets_dirs[@]}"; do
      assets=$dir/project.assets.json
      [ -f "$assets" ] || { cat "$log" >&2; echo "update-deps: no $assets" >&2; exit 1; }
      # Every error must be about an SDK-supplied pack; anything else is a real failure. One
      # exception: the musl ILCompiler package (runtime.linux-musl-<arch>.Microsoft.DotNet.ILCompiler)
      # is needed only by the experimental static build, the SDK does not supply it on a glibc
      # builder, and this registry does not serve it. It is reported, not fatal (docs/packaging.md).
      bad=$(jq -r '.logs[]? | select(.level == "Error") | "\(.code) \(.libraryId // "-") \(.message)"' "$assets" |
        while read -r code id rest; do
          if grep -qiE "$static_only" <<< "$id"; then echo "$id" >> "$scratch/static-missing"; continue; fi
          if ! grep -qiE "$sdk_supplied" <<< "$id"; then echo "$code $id $rest"; fi
        done)
      if [ -n "$bad" ]; then
        cat "$log" >&2
        echo "update-deps: restore failed for a package the SDK does not supply:" >&2
        echo "$bad" >&2
        exit 1
      fi
      jq -r '.logs[]? | select(.level == "Error") | .libraryId // empty' "$assets" | { grep -viE "$static_only" || true; } >> "$scratch/tolerated"
      # Libraries resolved from packages, plus any download-only package that is not an SDK pack.
      jq -r '.libraries | to_entries[] | select(.value.type == "package") | "\(.key | split("/")[0])\t\(.key | split("/")[1])\t\(.value.path)"' "$assets" >> "$list"
      jq -r '.project.frameworks[].downloadDependencies[]? | "\(.name)\t\(.version | ltrimstr("[") | split(",")[0])\t-"' "$assets" >> "$list"
    done
  done
done

if [ -s "$scratch/tolerated" ]; then
  echo "update-deps: not served by the registry, supplied by the Nix SDK instead: $(sort -u -f "$scratch/tolerated" | tr '\n' ' ')" >&2
fi

if [ -s "$scratch/static-missing" ]; then
  echo "update-deps: WARNING: not served, so missing from deps.json; only cvm-control-static needs it: $(sort -u -f "$scratch/static-missing" | tr '\n' ' ')" >&2
fi

# id <TAB> version, deduplicated case-insensitively, SDK packs dropped.
entries=$(sort -u -f "$list" | while IFS=$'\t' read -r id version path; do
  if grep -qiE "$sdk_supplied" <<< "$id"; then continue; fi
  printf '%s\t%s\n' "$id" "$version"
done | sort -u -f)

json_lines=()
while IFS=$'\t' read -r id version; do
  [ -n "$id" ] || continue
  lid=${id,,}
  lver=${version,,}
  dir=$cache/$lid/$lver
  nupkg=$dir/$lid.$lver.nupkg
  [ -f "$nupkg" ] || { echo "update-deps: $nupkg is not in the NuGet cache" >&2; exit 1; }
  # The id exactly as the package's nuspec spells it (nixpkgs keys packages by it).
  nuspec_id=$(sed -n 's:.*<id>\([^<]*\)</id>.*:\1:p' "$dir/$lid.nuspec" | head -1)
  hash="sha256-$(openssl dgst -sha256 -binary "$nupkg" | base64 -w0)"
  json_lines+=("$(jq -cn --arg p "${nuspec_id:-$id}" --arg v "$lver" --arg h "$hash" --arg k "$lid" \
    '{key: $k, pname: $p, version: $v, hash: $h}')")
done <<< "$entries"

# Sorted like nuget-to-json: by lowercase id, then version, in C (code point) order.
result=$(printf '%s\n' "${json_lines[@]}" | jq -s 'sort_by(.key, .version) | map({pname, version, hash})')

if [ "$mode" = check ]; then
  if diff -u "$out" <(printf '%s\n' "$result") >&2; then
    echo "update-deps: $out is up to date ($(jq length "$out") packages)" >&2
  else
    echo "update-deps: $out is out of date; run nix/update-deps.sh" >&2
    exit 1
  fi
else
  printf '%s\n' "$result" > "$out"
  echo "update-deps: wrote $out ($(jq length "$out") packages)" >&2
fi
