#!/usr/bin/env bash
# Offline checks of the packaging: the Nix flake (flake.nix, flake.lock, nix/) and the systemd units
# (deploy/). Idempotent; installs Debian's nix-bin when `nix` is missing. Prints every check and
# exits 1 if any failed.
#
# What it can and cannot prove: nixpkgs needs a newer Nix than Debian's 2.8 and cannot be fetched
# here, so nothing is built. It checks syntax, that flake.nix and flake.lock agree without re-locking,
# the flake's output schema against a stub nixpkgs (nix/stub-nixpkgs), that nix/deps.json matches
# a fresh restore, and the units with systemd-analyze verify.
#
# Usage: scripts/check-packaging.sh [--no-deps]   (--no-deps skips the NuGet restore of step 4)
#        CVM_BIN=<published cvm-control> scripts/check-packaging.sh   also runs the Nix package's
#        install check on that binary (scripts/test.sh passes the one it published)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

check_deps=1
for arg in "$@"; do
  case "$arg" in
    --no-deps) check_deps=0 ;;
    *) echo "usage: scripts/check-packaging.sh [--no-deps]" >&2; exit 2 ;;
  esac
done

passed=0
failed=0
skipped=0
ok() { echo "ok    $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }
skip() { echo "skip  $*"; skipped=$((skipped + 1)); }
# run <description> <command...>: runs quietly, shows the output only on failure.
run() {
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$what"; else fail "$what"; printf '%s\n' "$out" | sed 's/^/      /' | tail -40; fi
}

# --- tools ---------------------------------------------------------------------------------------
if ! command -v nix-instantiate >/dev/null || ! command -v nix >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's nix-bin"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nix-bin; } >/tmp/check-packaging-apt.log 2>&1; then
      cat /tmp/check-packaging-apt.log >&2
      echo "FAIL  could not install nix-bin" >&2
      exit 1
    fi
  else
    echo "FAIL  nix is not installed (apt-get install nix-bin, as root)" >&2
    exit 1
  fi
fi
for tool in jq git tar; do
  command -v "$tool" >/dev/null || { echo "FAIL  $tool is required" >&2; exit 1; }
done
echo "nix: $(nix --version)"

export NIX_CONFIG="experimental-features = nix-command flakes
download-attempts = 1
connect-timeout = 5"
# No store writes outside /nix and no user registry/config surprises.
export NIX_USER_CONF_FILES=/dev/null

# A copy of exactly what git would hand to Nix (tracked and new files, no bin/ obj/ artifacts/), so
# that Nix does not copy hundreds of megabytes of build output into the store for a path: flake.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$stage"
flake="path:$stage"
stub="path:$stage/nix/stub-nixpkgs"
with_stub=(--no-write-lock-file --override-input nixpkgs "$stub")

# --- 1. syntax of every .nix file ----------------------------------------------------------------
mapfile -t nix_files < <(cd "$stage" && find . -name '*.nix' -not -path './.git/*' | sort)
for f in "${nix_files[@]}"; do
  run "parse ${f#./}" nix-instantiate --parse "$stage/$f"
done

# --- 2. lock file: valid, every input pinned to a commit with its hash ---------------------------
run "flake.lock pins every input to a commit and narHash" jq -e '
  .version == 7 and
  ([.nodes | to_entries[] | select(.key != "root") | .value.locked
    | (.rev | test("^[0-9a-f]{40}$")) and (.narHash | startswith("sha256-")) and (.lastModified > 0)]
   | length > 0 and all)' "$stage/flake.lock"

# --- 3. flake.nix and flake.lock agree: no re-locking, nothing fetched ---------------------------
run "nix flake metadata --no-update-lock-file (flake.nix matches flake.lock; a download attempt on failure means they differ)" \
  timeout 60 nix flake metadata --no-update-lock-file "$flake"

# --- 4. nix/deps.json covers a fresh restore -----------------------------------------------------
if [ "$check_deps" = 1 ]; then
  if command -v dotnet >/dev/null; then
    run "nix/deps.json matches a restore of the daemon and its tests (nix/update-deps.sh --check)" \
      nix/update-deps.sh --check
  else
    skip "nix/deps.json freshness: dotnet is not installed"
  fi
else
  skip "nix/deps.json freshness (--no-deps)"
fi
# --- 4a. publish.sh refuses to build without the NativeAOT packs --------------------------------
# A scratch copy restores from a local feed that holds every package of the NuGet cache except the
# ILCompiler runtime packs, into an empty cache: publish.sh must fail with one line naming the pack,
# and build nothing (no silent ReadyToRun fallback).
missing_pack() {
  local dir feed cache out err rc=0 n
  dir=$(mktemp -d) && feed=$dir/feed && cache=$dir/cache && out=$dir/out && err=$dir/stderr
  mkdir -p "$feed" "$cache" "$dir/src"
  find "${NUGET_PACKAGES:-$HOME/.nuget/packages}" -maxdepth 3 -name '*.nupkg' ! -name 'runtime.*.microsoft.dotnet.ilcompiler.*' \
    -exec ln -s {} "$feed/" \;
  (cd "$stage" && tar -cf - .) | tar -xf - -C "$dir/src"
  printf '<?xml version="1.0" encoding="utf-8"?>\n<configuration><packageSources><clear /><add key="feed" value="%s" /></packageSources></configuration>\n' "$feed" > "$dir/src/NuGet.Config"
  (cd "$dir/src" && NUGET_PACKAGES=$cache bash scripts/publish.sh "$out" > /dev/null 2> "$err") && rc=1
  n=$(wc -l < "$err")
  grep -qx 'publish: cannot restore the NativeAOT pack runtime.linux-x64.Microsoft.DotNet.ILCompiler for linux-x64 from the configured NuGet sources; no fallback build is made' "$err" && [ "$n" = 1 ] || rc=1
  [ ! -e "$out/cvm-control" ] || { echo "a binary was built anyway"; rc=1; }
  [ "$rc" = 0 ] || { echo "stderr ($n lines):"; cat "$err"; }
  rm -rf "$dir"
  return "$rc"
}
if [ "$check_deps" = 1 ] && command -v dotnet >/dev/null; then
  run "scripts/publish.sh without the ILCompiler pack fails with one line naming it and builds nothing" missing_pack
else
  skip "publish.sh without the ILCompiler pack (--no-deps, or no dotnet)"
fi
run "nix/deps.json is in nixpkgs' format (pname, version, SRI hash; sorted; no SDK packs)" jq -e '
  type == "array" and length > 0 and
  all(.[]; (keys == ["hash", "pname", "version"]) and (.hash | test("^sha(256|512)-[A-Za-z0-9+/]+=*$"))) and
  (map([(.pname | ascii_downcase), .version]) | . == sort) and
  all(.[]; .pname | test("^(Microsoft\\.NETCore\\.App\\.|Microsoft\\.AspNetCore\\.App\\.|Microsoft\\.DotNet\\.ILCompiler|Microsoft\\.NET\\.ILLink\\.Tasks)"; "i") | not)' \
  "$stage/nix/deps.json"

# --- 4b. one source for the NativeAOT switches ---------------------------------------------------
# publish.sh (what CI tests), the flake's package and the bench's baseline all turn on the same
# property group (src/NativeAot.props) with -p:CvmNativeAot=true, and none of them sets an AOT
# switch of its own, so the Nix build cannot drift from the tested one.
aot_one_source() {
  local f rc=0 own='-p:(PublishAot|StripSymbols|Ilc[A-Za-z]*|TrimmerSingleWarn|InvariantGlobalization|SelfContained)='
  grep -q 'Condition="'"'"'$(CvmNativeAot)'"'"' == '"'"'true'"'"'"' "$stage/src/NativeAot.props" &&
    grep -q '<PublishAot>true</PublishAot>' "$stage/src/NativeAot.props" || { echo "src/NativeAot.props does not set PublishAot under CvmNativeAot"; rc=1; }
  for f in src/CvmControl/CvmControl.csproj bench/baseline/Baseline.csproj; do
    grep -q '<Import Project="\(\.\./\)*\(src/\)\{0,1\}NativeAot.props" />' "$stage/$f" || { echo "$f does not import src/NativeAot.props"; rc=1; }
  done
  grep -q '"-p:CvmNativeAot=true"' "$stage/nix/package.nix" || { echo "nix/package.nix: dotnetFlags lacks -p:CvmNativeAot=true"; rc=1; }
  [ "$(grep -c -- '-p:CvmNativeAot=true' "$stage/scripts/publish.sh")" -ge 2 ] || { echo "scripts/publish.sh: restore and publish must both pass -p:CvmNativeAot=true"; rc=1; }
  grep -q -- '-p:CvmNativeAot=true' "$stage/bench/run.sh" || { echo "bench/run.sh: the baseline is not built with -p:CvmNativeAot=true"; rc=1; }
  for f in nix/package.nix scripts/publish.sh bench/run.sh; do
    if grep -nE -- "$own" "$stage/$f"; then echo "$f sets an AOT switch itself; it belongs in src/NativeAot.props"; rc=1; fi
  done
  return "$rc"
}
run "one source for the AOT switches: src/NativeAot.props, turned on by -p:CvmNativeAot=true in publish.sh, nix/package.nix and bench/run.sh, which set none of their own" aot_one_source

# --- 5. flake outputs against the stub nixpkgs ---------------------------------------------------
run "nix flake check --no-build (output schema, stub nixpkgs)" \
  timeout 60 nix flake check --no-build "${with_stub[@]}" "$flake"
expected='{"checks":{"aarch64-linux":["cvm-control","unit-tests"],"x86_64-linux":["cvm-control","unit-tests"]},"overlays":["default"],"packages":{"aarch64-linux":["cvm-control","default"],"x86_64-linux":["cvm-control","default"]}}'
outputs() {
  local got=() attr err
  err=$(mktemp)
  for attr in packages checks overlays; do
    got+=("$(timeout 60 nix eval --json "${with_stub[@]}" "$flake#$attr" --apply '
      o: if builtins.isFunction (o.default or null) then builtins.attrNames o
         else builtins.mapAttrs (system: builtins.attrNames) o' 2>"$err")") || { cat "$err"; rm -f "$err"; return 1; }
  done
  rm -f "$err"
  local joined
  joined=$(jq -cSn --argjson p "${got[0]}" --argjson c "${got[1]}" --argjson o "${got[2]}" '{packages: $p, checks: $c, overlays: $o}')
  [ "$joined" = "$(jq -cS . <<< "$expected")" ] || { echo "got      $joined"; echo "expected $expected"; return 1; }
}
run "flake outputs: packages.<system>.{cvm-control,default}, checks.<system>.{cvm-control,unit-tests}, overlays.default" outputs
run "nix flake show (stub nixpkgs)" timeout 60 nix flake show "${with_stub[@]}" "$flake"

# The overlay's experimental static variant is not a flake output; evaluate it (and the package
# arguments for both systems) directly against the stub.
for system in x86_64-linux aarch64-linux; do
  for static in false true; do
    run "evaluate nix/package.nix { static = $static; } for $system (stub nixpkgs)" \
      nix-instantiate --eval --strict -E "
        let pkgs = import $stage/nix/stub-nixpkgs { system = \"$system\"; };
            p = pkgs.callPackage $stage/nix/package.nix { static = $static; };
        in [ p.name p.drvPath p.tests.unit.drvPath ]"
  done
done

# --- 5b. the published binary passes the Nix package's install check ----------------------------
# The same checks as nix/package.nix's installCheckPhase, on the binary CI built with the same
# switches: it runs (--version, --help), it is NativeAOT, and it needs nothing but glibc.
if [ -n "${CVM_BIN:-}" ]; then
  install_check() {
    local version needed
    version=$(sed -n 's:.*<Version>\([^<]*\)</Version>.*:\1:p' "$stage/Directory.Build.props")
    local printed
    printed=$("$CVM_BIN" --version) || { echo "--version failed"; return 1; }
    # The version, then the commit it was built from (+sha) when the build saw the git repository.
    [[ "$printed" == "$version" || "$printed" == "$version+"* ]] || { echo "--version printed $printed, not $version"; return 1; }
    "$CVM_BIN" --help > /dev/null || { echo "--help failed"; return 1; }
    # Not "readelf | grep -q" under pipefail: readelf may die of SIGPIPE after grep -q quits.
    grep -q __managedcode <<< "$(readelf -SW "$CVM_BIN")" || { echo "no __managedcode section"; return 1; }
    needed=$(readelf -d "$CVM_BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
    [ "$needed" = "ld-linux-x86-64.so.2 libc.so.6 libm.so.6 " ] || { echo "NEEDED: $needed"; return 1; }
  }
  run "the published binary ($CVM_BIN): --version and --help run, __managedcode present, NEEDED only libc, libm, ld-linux" install_check
else
  skip "install check of the published binary (CVM_BIN not set)"
fi

# --- 6. systemd units --------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  units=$(mktemp -d)
  cp "$stage"/deploy/*.service "$stage"/deploy/*.socket "$stage"/deploy/*.path "$stage"/deploy/*.target "$units"/
  # verify insists that ExecStart's binary exists; point it at a stand-in of the same name.
  printf '#!/bin/sh\nexit 0\n' > "$units/cvm-control"
  chmod 755 "$units/cvm-control"
  sed -i "s#^ExecStart=/usr/local/bin/cvm-control #ExecStart=$units/cvm-control #" "$units/cvm-control.service"
  verify_units() {
    local out
    # verify exits 0 on unknown keys and bad values (it only warns); any output at all is a failure.
    out=$(cd "$units" && systemd-analyze verify cvm-control.service cvm-control.socket cvm-control-vsock.socket cvm-control-vsock.service \
      cvm-bootstrapped.path cvm-bootstrapped.target 2>&1) \
      && [ -z "$out" ] || { echo "$out"; return 1; }
  }
  run "systemd-analyze verify deploy/cvm-control.{service,socket} cvm-control-vsock.{socket,service} cvm-bootstrapped.{path,target} ($(systemd-analyze --version | head -1))" verify_units
  # The properties the deployment relies on, as systemd parsed them.
  unit_props() {
    local f=$units/cvm-control.service
    grep -qx 'RuntimeDirectory=cvm' "$f" && grep -qx 'RuntimeDirectoryMode=0755' "$f" &&
      grep -qx 'RuntimeDirectoryPreserve=yes' "$f" && grep -qx 'Restart=on-failure' "$f" &&
      grep -qx 'KillMode=mixed' "$f" && grep -q -- '--log-format json' "$f" &&
      [ "$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$f")" -gt 80 ] &&
      ! grep -qE '^(Protect(Home|System|KernelTunables|KernelModules|KernelLogs|ControlGroups|Proc)|PrivateTmp|PrivateDevices|PrivateMounts|ReadOnlyPaths|InaccessiblePaths|TemporaryFileSystem|BindPaths|MountFlags)=' "$f"
  }
  run "unit: RuntimeDirectory=cvm 0755 preserved, Restart=on-failure, KillMode=mixed, TimeoutStopSec > 80 s, JSON logs, no mount namespace" unit_props
  # Readiness and the watchdog as the daemon implements them; sockets as ListenerPlan classifies them.
  notify_props() {
    local f=$units/cvm-control.service
    grep -qx 'Type=notify' "$f" && grep -qx 'NotifyAccess=main' "$f" &&
      [ "$(sed -n 's/^WatchdogSec=\([0-9]*\)s$/\1/p' "$f")" -ge 2 ] &&
      grep -qx 'ListenStream=9443' "$units/cvm-control.socket" && ! grep -q '^Accept=yes' "$units/cvm-control.socket" &&
      grep -qx 'ListenStream=vsock::9443' "$units/cvm-control-vsock.socket" &&
      grep -q '^ExecStart=/lib/systemd/systemd-socket-proxyd 127.0.0.1:9443$' "$units/cvm-control-vsock.service"
  }
  run "units: Type=notify with NotifyAccess=main and WatchdogSec=, cvm-control.socket passes listening sockets, vsock::9443 goes through systemd-socket-proxyd to 127.0.0.1:9443" notify_props
  rm -rf "$units"
else
  skip "systemd-analyze verify: systemd-analyze is not installed (Debian: part of the systemd package, too heavy to pull into a container for a lint)"
fi

echo "packaging checks: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
