#!/usr/bin/python3
"""Checks a Prometheus text exposition (format 0.0.4) with the reference Python parser.

Usage: check-exposition.py FILE|- [--nonempty-histogram NAME]... [--sample NAME LABELS_JSON VALUE]...

Parses with prometheus_client.parser.text_string_to_metric_families (Debian's
python3-prometheus-client; run it with /usr/bin/python3), then checks what the parser leaves to the
reader: metric and label names are legal, every family has a known type, every sample value is a
number, histogram buckets are cumulative with a +Inf bucket equal to _count and a _sum beside it, and
no family or label set appears twice. --nonempty-histogram NAME requires family NAME to be a
histogram with at least one series whose _count is above 0. --sample requires one sample of that
name with exactly those labels (a JSON object) and that value.

Prints one JSON line (families, samples, and the histogram series counts asked for) and exits 0,
or prints the problems on stderr and exits 1.
"""
import json
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    wanted_histograms = []
    wanted_samples = []
    rest = argv[2:]
    while rest:
        if rest[0] == "--nonempty-histogram" and len(rest) >= 2:
            wanted_histograms.append(rest[1])
            rest = rest[2:]
        elif rest[0] == "--sample" and len(rest) >= 4:
            wanted_samples.append((rest[1], json.loads(rest[2]), float(rest[3])))
            rest = rest[4:]
        else:
            print(f"unknown argument {rest[0]!r}", file=sys.stderr)
            return 2

    problems = []
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as error:  # the parser's own verdict on a malformed line
        print(f"the parser refused the exposition: {error!r}", file=sys.stderr)
        return 1

    seen_families = set()
    seen_samples = set()
    samples = 0
    histogram_series = {}
    for family in families:
        if family.name in seen_families:
            problems.append(f"family {family.name} appears twice")
        seen_families.add(family.name)
        if not NAME.match(family.name):
            problems.append(f"family name {family.name!r} is not legal")
        if family.type not in ("counter", "gauge", "histogram", "summary", "untyped", "unknown"):
            problems.append(f"family {family.name} has type {family.type!r}")
        series = {}
        for sample in family.samples:
            samples += 1
            key = (sample.name, tuple(sorted(sample.labels.items())))
            if key in seen_samples:
                problems.append(f"sample {sample.name}{sample.labels} appears twice")
            seen_samples.add(key)
            if not NAME.match(sample.name) or not sample.name.startswith(family.name):
                problems.append(f"sample {sample.name!r} does not belong to family {family.name}")
            for label in sample.labels:
                if not LABEL.match(label) or label.startswith("__"):
                    problems.append(f"sample {sample.name} has label name {label!r}")
            if not isinstance(sample.value, float) and not isinstance(sample.value, int):
                problems.append(f"sample {sample.name} has value {sample.value!r}")
            elif math.isnan(sample.value):
                problems.append(f"sample {sample.name}{sample.labels} is NaN")
            if family.type == "counter" and sample.value < 0:
                problems.append(f"counter sample {sample.name}{sample.labels} is negative")
            if family.type == "histogram":
                labels = {k: v for k, v in sample.labels.items() if k != "le"}
                entry = series.setdefault(tuple(sorted(labels.items())), {"buckets": [], "sum": None, "count": None})
                if sample.name == family.name + "_bucket":
                    entry["buckets"].append((float(sample.labels["le"]), sample.value))
                elif sample.name == family.name + "_sum":
                    entry["sum"] = sample.value
                elif sample.name == family.name + "_count":
                    entry["count"] = sample.value
                else:
                    problems.append(f"histogram {family.name} has sample {sample.name}")
            for name, labels, value in wanted_samples:
                if sample.name == name and sample.labels == labels and sample.value == value:
                    wanted_samples.remove((name, labels, value))
                    break
        if family.type == "histogram":
            nonempty = 0
            for labels, entry in series.items():
                where = f"{family.name}{dict(labels)}"
                buckets = entry["buckets"]
                if [b[0] for b in buckets] != sorted(b[0] for b in buckets):
                    problems.append(f"{where}: buckets are not in increasing order")
                if not buckets or buckets[-1][0] != math.inf:
                    problems.append(f"{where}: no +Inf bucket")
                counts = [b[1] for b in buckets]
                if counts != sorted(counts):
                    problems.append(f"{where}: bucket counts are not cumulative")
                if entry["count"] is None or entry["sum"] is None:
                    problems.append(f"{where}: _count or _sum is missing")
                elif buckets and buckets[-1][1] != entry["count"]:
                    problems.append(f"{where}: +Inf bucket {buckets[-1][1]} differs from _count {entry['count']}")
                if entry["count"]:
                    nonempty += 1
            histogram_series[family.name] = nonempty

    for name in wanted_histograms:
        if name not in histogram_series:
            problems.append(f"no histogram family {name}")
        elif histogram_series[name] == 0:
            problems.append(f"histogram {name} has no series with observations")
    for name, labels, value in wanted_samples:
        problems.append(f"no sample {name}{labels} with value {value}")

    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    print(json.dumps({
        "families": len(families),
        "samples": samples,
        "histograms": {name: histogram_series.get(name, 0) for name in wanted_histograms},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
