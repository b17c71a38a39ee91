#!/usr/bin/env python3
"""The semester rush for bench/run: N people sign up and receive their links, then all of
them press the confirm button in one burst; each then waits for the mail that says the
account is ready (the password mail). Optionally the server is killed with SIGKILL during
the drain and started again (--kill-after, --restart). With several servers (--url A,B,…:
instances on one database) each person signs up at one and confirms at the next, round robin.
--throttle-url arms one 429 at the fake Graph's control port --throttle-after seconds into
the drain. Prints one JSON object."""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import threading
import time
import urllib.parse
import urllib.request

from signup_load import LINK, Mailbox, letters, post


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the server, or several: A,B,…")
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--tag", default="r", help="distinguishes runs (letters only)")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--kill-pid", type=int, help="the server to SIGKILL during the drain")
    parser.add_argument("--kill-after", type=float, default=0, help="seconds after the burst")
    parser.add_argument("--restart", help="a command that starts the server again")
    parser.add_argument("--throttle-url", help="the fake Graph's control port")
    parser.add_argument("--throttle-after", type=float, default=10)
    parser.add_argument("--throttle-seconds", type=int, default=5)
    args = parser.parse_args()

    targets = [urllib.parse.urlsplit(url) for url in args.url.split(",")]
    mailbox = Mailbox(args.maildir)
    addresses = [f"rush.{args.tag}.{i}@stud.uni.example" for i in range(args.people)]
    failures = []
    lock = threading.Lock()

    # 1. Everybody signs up and gets their link (16 at a time: not what is measured).
    links = {}

    def sign_up(chunk):
        conns = [http.client.HTTPConnection(t.hostname, t.port, timeout=60) for t in targets]
        for i in chunk:
            conn = conns[i % len(conns)]
            address = addresses[i]
            status = post(conn, "/signup", {
                "email": address, "consent_email": "yes", "consent_name": "yes",
                "first_name": "Rush", "last_name": f"Person {args.tag} {letters(i)}",
            })
            text = mailbox.wait(address, 1, time.monotonic() + 60) if status == 200 else None
            match = LINK.search(text or "")
            with lock:
                if match is None:
                    failures.append(f"{address}: sign-up {status}, no link")
                else:
                    links[address] = match.group(1)

    chunks = [range(k, args.people, 16) for k in range(16)]
    threads = [threading.Thread(target=sign_up, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # 2. The burst: every confirm at once.
    confirmed = {}
    statuses = {}
    barrier = threading.Barrier(len(links) + 1)

    def confirm(address, path):
        # At the next instance: confirms land where the sign-up did not.
        target = targets[(addresses.index(address) + 1) % len(targets)]
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
        barrier.wait()
        t0 = time.monotonic()
        try:
            status = post(conn, path, {"lang": "en"})
        except OSError as err:
            status = f"{type(err).__name__}"
        with lock:
            confirmed[address] = t0
            statuses[address] = status

    threads = [threading.Thread(target=confirm, args=item) for item in links.items()]
    for t in threads:
        t.start()
    barrier.wait()
    burst = time.monotonic()
    killed = False
    restarted = None
    armed_ms = None
    if args.throttle_url:
        time.sleep(args.throttle_after)
        request = urllib.request.Request(
            f"{args.throttle_url}/throttle?seconds={args.throttle_seconds}", method="POST")
        with urllib.request.urlopen(request) as response:
            armed_ms = json.load(response)["armed_ms"]
    if args.kill_pid and args.kill_after:
        time.sleep(args.kill_after)
        os.kill(args.kill_pid, signal.SIGKILL)
        killed = True
        time.sleep(0.5)
        # `bash -c "…; exec server"`: the pid is the server's, for the caller to stop it.
        restarted = subprocess.Popen(["bash", "-c", args.restart]).pid
    for t in threads:
        t.join()

    # 3. The ready mails (the password mail: the second mail to each address).
    ready = {}
    deadline = burst + args.max_seconds
    while len(ready) < len(links) and time.monotonic() < deadline:
        mailbox.scan()
        now = time.monotonic()
        with mailbox.lock:
            for address in links:
                if address not in ready and len(mailbox.by_rcpt.get(address, [])) >= 2:
                    ready[address] = now
        time.sleep(0.05)
    end = max(ready.values()) if ready else time.monotonic()
    mailbox.scan()
    for address in links:
        if address not in ready:
            failures.append(f"{address}: confirm {statuses.get(address)}, no ready mail")
    extra_mails = sum(max(0, len(mailbox.by_rcpt.get(a, [])) - 2) for a in links)
    waits = sorted(ready[a] - confirmed[a] for a in ready)

    def pct(p):
        if not waits:
            return None
        return round(waits[min(len(waits) - 1, int(p / 100 * len(waits)))], 1)

    answered = {}
    for status in statuses.values():
        answered[str(status)] = answered.get(str(status), 0) + 1
    print(json.dumps({
        "people": args.people,
        "ready": len(ready),
        "failed": len(failures),
        "failures": failures[:5],
        "confirm_statuses": answered,
        "seconds": round(end - burst, 1),
        "p50_s": pct(50),
        "p99_s": pct(99),
        "mean_s": round(statistics.mean(waits), 1) if waits else None,
        "extra_mails": extra_mails,
        "killed": killed,
        "armed_ms": armed_ms,
        "restarted_pid": restarted,
    }))


if __name__ == "__main__":
    main()
