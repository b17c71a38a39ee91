#!/usr/bin/env python3
"""Reads `wrk --latency` output on stdin; prints `req/s mean_ms p99_ms errors` on one line
(errors: socket errors plus non-2xx/3xx answers)."""

import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


out = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
mean = ms(re.search(r"Latency\s+(\S+)", out).group(1))
p99 = ms(re.search(r"99%\s+(\S+)", out).group(1))
errors = 0
socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
if socket:
    errors += sum(int(n) for n in socket.groups())
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
if non2xx:
    errors += int(non2xx.group(1))
print(f"{rps:.0f} {mean:.2f} {p99:.2f} {errors}")
