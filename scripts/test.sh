#!/usr/bin/env bash
# The one command that runs every test of the project: unit, HTTP contract and real-Kestrel tests,
# then the trimmed single-file publish (trim warnings are errors).
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

status=0
dotnet test CvmControl.sln -c Release --logger "console;verbosity=normal" --logger "trx;LogFileName=unit.trx" \
  --results-directory "$results" 2>&1 | tee "$results/unit.log" || status=$?

# NativeAOT readiness: the trimmed single-file publish must succeed with zero trim warnings.
publish_dir="$results/publish"
if ! scripts/publish.sh "$publish_dir" > "$results/publish.log" 2>&1; then
  cat "$results/publish.log"
  echo "publish: FAILED" >&2
  status=1
else
  tail -1 "$results/publish.log"
fi

# A plain closing line that any CI reader understands.
passed=$(grep -oE 'Passed: +[0-9]+' "$results/unit.log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE 'Failed: +[0-9]+' "$results/unit.log" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo "${passed} passed, ${failed} failed"
exit "$status"
