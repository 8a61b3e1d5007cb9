#!/usr/bin/env bash
# Mutation testing with Stryker.NET (dotnet-stryker 5.1.0, from the repo's tool manifest), one run per
# folder that issue 12 covers. Not part of scripts/test.sh or CI: on 2 cores a folder takes 35 to 75 minutes.
#
# Usage: scripts/mutation.sh [volumes|verification|verification-amd|verification-intel]...    (default: volumes verification)
#   NICE=19 CONCURRENCY=1 scripts/mutation.sh volumes
# Reports: artifacts/mutation/<folder>/reports/mutation-report.{html,json}; the score is the last
# "The final mutation score is" line of each run's output, also saved as artifacts/mutation/<folder>.log.
#
# --mutate is scoped to library folders on purpose: mutating the Http/ minimal-API handlers breaks the
# build after Stryker's rollback under .NET 10 (CS9234, request-delegate interceptors).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
runs=${*:-volumes verification}
nice_level=${NICE:-10}
concurrency=${CONCURRENCY:-1}

# With the kernel's autogroup scheduling (sched_autogroup_enabled=1, Debian's default), nice only ranks
# processes within one session: a run at nice 19 still took half of the 2 cores from a QEMU guest in
# another session. So the run gets a session of its own, and that session's autogroup gets the nice level.
if [ -z "${CVM_MUTATION_SESSION:-}" ]; then
  exec env CVM_MUTATION_SESSION=1 setsid --wait "$repo/scripts/mutation.sh" "$@"
fi
echo "$nice_level" > /proc/self/autogroup 2> /dev/null || true

dotnet tool restore > /dev/null

run() { # name, test-case filter, mutate globs...
  local name=$1 filter=$2
  shift 2
  local out=$repo/artifacts/mutation/$name
  rm -rf "$out"
  mkdir -p "$out"
  local mutate=()
  for glob in "$@"; do mutate+=(--mutate "$glob"); done
  (cd tests/CvmControl.Tests && nice -n "$nice_level" dotnet stryker \
    --project CvmControl.csproj --configuration Release --concurrency "$concurrency" \
    --test-case-filter "$filter" "${mutate[@]}" \
    --reporter html --reporter json --reporter progress --reporter cleartext \
    --output "$out" --skip-version-check) 2>&1 | tee "$out.log"
}

# The exhaustive byte-flip and random-corruption tests are left out: they are 19 of the folder's
# 245 tests but 3/4 of its test time, which made a run take longer than a working session. A
# mutant they alone would kill counts as survived, so the score is a lower bound.
verification_tests='(FullyQualifiedName~CvmControl.Tests.Attestation.Verification|FullyQualifiedName~CvmControl.Tests.Cli.VerifyCommandTests)&FullyQualifiedName!~.Every_&FullyQualifiedName!~.Random_corruption&FullyQualifiedName!~.Randomly_corrupted'

for r in $runs; do
  case $r in
    volumes)
      run volumes 'FullyQualifiedName~CvmControl.Tests.Volumes' '**/Volumes/**/*.cs' ;;
    verification)
      run verification "$verification_tests" \
        '**/Attestation/Verification/**/*.cs' ;;
    # The same run cut in two halves whose --mutate sets partition the folder, so each fits beside
    # other work; scripts/mutation-score.py adds their reports up.
    verification-amd)
      run verification-amd "$verification_tests" \
        '**/Attestation/Verification/*.cs' '**/Attestation/Verification/Snp/*.cs' ;;
    verification-intel)
      run verification-intel "$verification_tests" \
        '**/Attestation/Verification/Tdx/*.cs' '**/Attestation/Verification/EventLog/*.cs' ;;
    *) echo "mutation.sh: unknown run $r (volumes, verification, verification-amd, verification-intel)" >&2; exit 2 ;;
  esac
done
grep -H 'The final mutation score is' "$repo"/artifacts/mutation/*.log || true
