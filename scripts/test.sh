#!/usr/bin/env bash
# The one command that runs every test of the project:
#   1. the NativeAOT publish (scripts/publish.sh), with trim and AOT warnings as errors. It is built
#      once here, and that one binary is what every later step runs;
#   2. unit, HTTP-contract, real-Kestrel and process-level tests (dotnet test); the process-level
#      tests run the published binary (CVM_BIN);
#   3. the packaging checks (Nix flake and lock, NuGet deps file, one source for the AOT switches,
#      systemd unit); the end-to-end TLS test of the published daemon with openssl-made files and
#      Debian's curl (tests/tls/e2e.sh, installs curl if missing);
#   4. the real-kernel scenarios: the published daemon in a QEMU guest with NVMe disks, real
#      dm-crypt, LUKS2 and ext4. Their Debian packages (tests/vm/install-deps.sh) are installed
#      when missing, before step 2, whose write-back tests run real cryptsetup on image files.
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
started=$(date +%s)
step() { echo "== $1 ($(($(date +%s) - started)) s into the run)"; }

step "NativeAOT publish"
publish_dir=$PWD/artifacts/publish
publish_ok=1
if ! scripts/publish.sh "$publish_dir" > "$results/publish.log" 2>&1; then
  cat "$results/publish.log"
  echo "publish: FAILED" >&2
  status=1
  publish_ok=0
else
  tail -1 "$results/publish.log"
fi

# The Debian packages before the unit tests: their write-back crash tests run real cryptsetup on image
# files (no device-mapper needed), and the VM scenarios need the rest.
step "Debian packages"
bash tests/vm/install-deps.sh

step "unit, HTTP-contract, Kestrel and process-level tests"
# Without a published binary the process-level tests fall back to the build output; the run has
# failed already then.
cvm_bin=()
[ "$publish_ok" = 1 ] && cvm_bin=(env "CVM_BIN=$publish_dir/cvm-control")
"${cvm_bin[@]}" dotnet test CvmControl.sln -c Release --logger "console;verbosity=normal" \
  --results-directory "$results" 2>&1 | tee "$results/unit.log" || status=$?
unit_passed=$(grep -oE 'Passed: +[0-9]+' "$results/unit.log" | tail -1 | grep -oE '[0-9]+' || echo 0)
unit_failed=$(grep -oE 'Failed: +[0-9]+' "$results/unit.log" | tail -1 | grep -oE '[0-9]+' || echo 0)

# Packaging: every .nix file parses, flake and lock agree, the output schema holds against a stub
# nixpkgs, deps.json matches a restore, publish.sh and the flake take the same AOT switches, and the
# systemd unit verifies (installs nix-bin if missing).
step "packaging checks"
pkg_passed=0
pkg_failed=0
"${cvm_bin[@]}" bash scripts/check-packaging.sh 2>&1 | tee "$results/packaging.log" || status=1
pkg_summary=$(grep -E '^packaging checks: [0-9]+ passed, [0-9]+ failed' "$results/packaging.log" | tail -1 || true)
pkg_passed=$(sed -E 's/^packaging checks: ([0-9]+) passed.*/\1/' <<< "${pkg_summary:-packaging checks: 0 passed}")
pkg_failed=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<< "${pkg_summary:-x 1 failed}")

tls_passed=0
tls_failed=0
if [ "$publish_ok" = 1 ]; then
  step "end-to-end TLS"
  CVM_BIN=$publish_dir/cvm-control bash tests/tls/e2e.sh 2>&1 | tee "$results/tls.log" || status=1
  tls_summary=$(grep -E '^tls e2e: [0-9]+ passed, [0-9]+ failed' "$results/tls.log" | tail -1 || true)
  tls_passed=$(sed -E 's/^tls e2e: ([0-9]+) passed.*/\1/' <<< "${tls_summary:-tls e2e: 0 passed}")
  tls_failed=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<< "${tls_summary:-x 1 failed}")
fi

vm_passed=0
vm_failed=0
if [ "$publish_ok" = 1 ]; then
  step "real-kernel scenarios"
  CVM_BIN=$publish_dir/cvm-control bash tests/vm/scenarios.sh 2>&1 | tee "$results/vm.log" || status=1
  summary=$(grep -E '^vm scenarios: [0-9]+ passed, [0-9]+ failed' "$results/vm.log" | tail -1 || true)
  vm_passed=$(sed -E 's/^vm scenarios: ([0-9]+) passed.*/\1/' <<< "${summary:-vm scenarios: 0 passed}")
  vm_failed=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<< "${summary:-x 1 failed}")
fi

step "done"
# A plain closing line that any CI reader understands.
# Name every failed test again at the end, with its first lines of message, so a truncated log still
# shows what failed.
if [ "${unit_failed:-0}" != 0 ]; then
  echo "failed unit tests:"
  grep -E '^ +Failed [A-Za-z]' -A6 "$results/unit.log" | head -60 || true
fi
echo "unit: ${unit_passed} passed, ${unit_failed} failed; packaging: ${pkg_passed} passed, ${pkg_failed} failed; tls e2e: ${tls_passed} passed, ${tls_failed} failed; real-kernel: ${vm_passed} passed, ${vm_failed} failed"
echo "$((unit_passed + pkg_passed + tls_passed + vm_passed)) passed, $((unit_failed + pkg_failed + tls_failed + vm_failed)) failed"
exit "$status"
