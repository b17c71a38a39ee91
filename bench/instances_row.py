#!/usr/bin/env python3
"""One row of the shared-budget benchmark (bench/run, BENCH_ONLY=instances): the rush run of
N instances on one database against the fake Graph's write budget, from rush_load.py's JSON,
the fake's counts before and after, its request log and every instance's /metrics. With
--pause, the row of the run in which one 429 with Retry-After was injected instead.

Usage: instances_row.py RUN.json BEFORE.json AFTER.json REQUESTS.json METRICS.txt
       BUDGET WINDOW_S LATENCY_MS INSTANCES [--pause RETRY_AFTER_S]"""

import json
import re
import sys

WRITES = ("create_user", "update_user", "batch")
# The 429 reaches the instance `latency` after the fake logged the request (the fake waits
# before it answers); this much more is left for the instance to record the pause and for
# the others to hear of it. A write logged later, within the pause, went out during it.
MARGIN_MS = 20


def metric(text, name):
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name} (\S+)$", text, re.M))


def main():
    run, before, after, requests = (json.load(open(p)) for p in sys.argv[1:5])
    metrics = open(sys.argv[5]).read()
    budget, window, latency, instances = (float(a) for a in sys.argv[6:10])
    pause = float(sys.argv[11]) if len(sys.argv) > 11 and sys.argv[10] == "--pause" else None
    d = {k: after[k] - before[k] for k in after}
    users, writes, throttled = d["users"], d["writes"], d["throttled"]
    write_requests = sum(d[k] for k in WRITES)
    trips = metric(metrics, "ms365_graph_budget_round_trip_seconds_count")
    trip_seconds = metric(metrics, "ms365_graph_budget_round_trip_seconds_sum")
    trip_ms = 1000 * trip_seconds / trips if trips else 0
    per_request = trips / write_requests if write_requests else 0
    floor = run["people"] * 4 / (budget / window)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(run["confirm_statuses"].items()))
    common = (f"| {int(instances)} | {run['people']} | {users} | {run['failed']} | "
              f"{d['numbered_users']} | {run['extra_mails']} | {statuses} | {run['seconds']} s | "
              f"{floor:.0f} s | {100 * (run['seconds'] / floor - 1):+.0f} % | {writes} | "
              f"{throttled} ({100 * throttled / max(writes, 1):.1f} %) | "
              f"{int(trips)} for {write_requests} ({per_request:.2f}); {trip_ms:.2f} ms |")
    if pause is None:
        print(common)
        return
    armed = run["armed_ms"]
    hit = next(r for r in requests if r[1] == "create_user" and r[0] >= armed)
    if hit[2] != 429:
        sys.exit(f"the first create after arming answered {hit[2]}, not the injected 429")
    heard = hit[0] + latency + MARGIN_MS
    until = hit[0] + latency + pause * 1000
    later = [r for r in requests if r[1] in WRITES and r[0] > hit[0]]
    in_flight = sum(1 for r in later if r[0] <= heard)
    during = sum(1 for r in later if heard < r[0] < until)
    first_after = min((r[0] for r in later if r[0] > heard), default=None)
    first = f"{(first_after - hit[0]) / 1000:.2f} s" if first_after is not None else "none"
    print(f"{common} {pause:.0f} s | {in_flight} | {during} | {first} |")


if __name__ == "__main__":
    main()
