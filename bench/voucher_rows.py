#!/usr/bin/env python3
"""The voucher rows of bench/run: sign-up throughput with a voucher against without.
Arguments: load before, load after, n, then n result files without and n with, round by
round (each beside its `.before` and `.after` counts of the fake Graph). Each round ran both sides one after the other, the side going first alternating, so
the comparison is the geometric mean of the rounds' ratios: the drift from one run to the
next falls on each side equally often and cancels."""

import json
import math
import statistics
import sys

load_before, load_after, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sys.argv[4:]
runs = {
    "without": [json.load(open(f)) for f in files[:n]],
    "with": [json.load(open(f)) for f in files[n:]],
}
ratios = [w["signups_per_s"] / o["signups_per_s"] for o, w in zip(runs["without"], runs["with"])]
change = 100 * (math.exp(statistics.mean(math.log(r) for r in ratios)) - 1)
rate = {side: statistics.median(r["signups_per_s"] for r in rs) for side, rs in runs.items()}
mean = {side: statistics.median(r["mean_ms"] for r in rs) for side, rs in runs.items()}
each = {side: " ".join(f"{r['signups_per_s']:g}" for r in rs) for side, rs in runs.items()}
verdict = "met" if change >= -5 else "**missed**"
print(
    f"| Sign-ups/s, median of {n} rounds (each round) | {rate['without']:g} ({each['without']}) | "
    f"{rate['with']:g} ({each['with']}) | {change:+.1f} % (the rounds: "
    f"{' '.join(f'{100 * (r - 1):+.1f}' for r in ratios)}) | {verdict} |"
)
print(
    f"| Mean ms a sign-up, median of the rounds | {mean['without']:g} | {mean['with']:g} | "
    f"{100 * (mean['with'] / mean['without'] - 1):+.1f} % | |"
)


def round_trips(paths):
    """Graph round trips per sign-up over the runs, and by endpoint."""
    kinds = ("list_users", "create_user", "get_user", "batch", "subscribed_skus", "get_group")
    total, by_kind, signups = 0, dict.fromkeys(kinds, 0), 0
    for path in paths:
        before, after = json.load(open(path + ".before")), json.load(open(path + ".after"))
        total += after["graph_round_trips"] - before["graph_round_trips"]
        for kind in kinds:
            by_kind[kind] += after[kind] - before[kind]
        signups += json.load(open(path))["completed"]
    each = ", ".join(f"{k} {v / signups:g}" for k, v in by_kind.items() if v)
    return f"{total / signups:g} ({each})"


print(
    f"| Graph round trips a sign-up | {round_trips(files[:n])} | {round_trips(files[n:])} | | |"
)
print(f"| Load average before, after | {load_before} | {load_after} | | |")
