#!/usr/bin/env python3
"""Cold start: time from exec of the server until PATH (default /, the sign-up form) answers
200, over several runs, each with a fresh store. The environment is passed through;
DATABASE_PATH gets a run number. Prints the milliseconds of every run, median first.

Usage: coldstart.py BINARY HOST PORT RUNS [PATH]"""

import http.client
import os
import signal
import statistics
import subprocess
import sys
import time

binary, host, port, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
path = sys.argv[5] if len(sys.argv) > 5 else "/"
times = []
for run in range(runs):
    env = dict(os.environ, DATABASE_PATH=f"{os.environ['DATABASE_PATH']}.cold{run}")
    start = time.perf_counter()
    log = open(env["DATABASE_PATH"] + ".log", "wb")
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                sys.stderr.write(open(env["DATABASE_PATH"] + ".log", encoding="utf-8", errors="replace").read())
                sys.exit(f"the server exited with {proc.returncode} before answering")
            if time.perf_counter() - start > 10:
                sys.exit(f"no answer from {path} within 10 s")
            try:
                conn = http.client.HTTPConnection(host, port, timeout=1)
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    break
            except OSError:
                time.sleep(0.0005)
        times.append((time.perf_counter() - start) * 1000)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
print(f"{statistics.median(times):.1f} " + " ".join(f"{t:.1f}" for t in times))
