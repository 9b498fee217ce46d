#!/usr/bin/env python3
"""Markdown tables, tree next to array, from JMH JSON results (guestmem-bench/run ... -rf json -rff FILE).

usage: guestmem-bench/summarize.py RESULT.json [RESULT.json ...]

One table per benchmark class; one row per benchmark method and parameter set other than impl; columns
TREE and ARRAY (mean ± 99.9% error, then the median of the measured iterations, and for single-shot runs
the minimum too) and the ratio ARRAY / TREE of the means (of the medians in brackets). Both columns of a row come from the same JSON file, hence the same run.
"""
import json
import statistics
import sys
from collections import OrderedDict


def fmt(x):
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def median(r):
    raw = [v for fork in r["primaryMetric"]["rawData"] for v in fork]
    return statistics.median(raw) if len(raw) > 1 else None


def cell(r):
    m = r["primaryMetric"]
    text = f"{fmt(m['score'])} ± {fmt(m['scoreError'])}" if m.get("scoreError") == m.get("scoreError") else fmt(m["score"])
    raw = [v for fork in m["rawData"] for v in fork]
    if r["mode"] == "ss":
        text += f" (med {fmt(statistics.median(raw))}, min {fmt(min(raw))})"
    elif len(raw) > 1:
        text += f" (med {fmt(statistics.median(raw))})"
    return text


def main(paths):
    tables = OrderedDict()
    for path in paths:
        with open(path) as f:
            for r in json.load(f):
                cls, method = r["benchmark"].rsplit(".", 2)[-2:]
                params = dict(r.get("params", {}))
                impl = params.pop("impl")
                key = (method,) + tuple(f"{k}={v}" for k, v in sorted(params.items()))
                tables.setdefault(cls, OrderedDict()).setdefault(key, {})[impl] = r
    for cls, rows in tables.items():
        unit = next(iter(next(iter(rows.values())).values()))["primaryMetric"]["scoreUnit"]
        print(f"#### {cls} ({unit}, lower is better)\n")
        print("| benchmark | params | TREE | ARRAY | ARRAY / TREE |")
        print("|---|---|---:|---:|---:|")
        for key, by_impl in rows.items():
            tree, array = by_impl.get("TREE"), by_impl.get("ARRAY")
            ratio = ""
            if tree and array:
                ratio = f"{array['primaryMetric']['score'] / tree['primaryMetric']['score']:.2f}×"
                mt, ma = median(tree), median(array)
                if mt and ma:
                    ratio += f" ({ma / mt:.2f}×)"
            print(f"| {key[0]} | {', '.join(key[1:])} | {cell(tree) if tree else ''} | "
                  f"{cell(array) if array else ''} | {ratio} |")
        print()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
