#!/usr/bin/python3
"""Adds up Stryker JSON reports whose --mutate sets partition one folder, and prints the score by
file and in total, as Stryker computes it: (killed + timeout) / (killed + timeout + survived +
no coverage). Compile errors and ignored mutants do not count.

Usage: scripts/mutation-score.py artifacts/mutation/verification-amd artifacts/mutation/verification-intel
(each argument a run's output folder, or its mutation-report.json)."""
import collections
import json
import os
import sys

DETECTED = ("Killed", "Timeout")
UNDETECTED = ("Survived", "NoCoverage")


def report_path(argument):
    if os.path.isdir(argument):
        return os.path.join(argument, "reports", "mutation-report.json")
    return argument


def main(arguments):
    if not arguments:
        print(__doc__, file=sys.stderr)
        return 2
    by_file = {}
    for argument in arguments:
        with open(report_path(argument), encoding="utf-8") as handle:
            report = json.load(handle)
        for path, entry in report["files"].items():
            counts = collections.Counter(m["status"] for m in entry["mutants"])
            if sum(counts[s] for s in DETECTED + UNDETECTED) == 0:
                continue
            if path in by_file:
                print(f"mutation-score: {path} is in more than one report; the runs must partition the folder", file=sys.stderr)
                return 1
            by_file[path] = counts
    total = collections.Counter()
    print(f"{'file':40} {'killed':>6} {'timeout':>7} {'survived':>8} {'no cov':>6} {'score':>7}")
    for path in sorted(by_file, key=lambda p: p.split("/Verification/")[-1]):
        counts = by_file[path]
        total.update(counts)
        print(line(path.split("/Verification/")[-1], counts))
    print(line("total", total))
    return 0


def line(name, counts):
    detected = sum(counts[s] for s in DETECTED)
    valid = detected + sum(counts[s] for s in UNDETECTED)
    score = 100.0 * detected / valid if valid else 0.0
    return f"{name:40} {counts['Killed']:6} {counts['Timeout']:7} {counts['Survived']:8} {counts['NoCoverage']:6} {score:6.2f}%"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
