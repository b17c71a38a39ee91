#!/usr/bin/env python3
"""End-to-end sign-up load for bench/run: N people at a time, each submitting the form,
waiting for the verification mail at the SMTP sink's maildir, confirming, and waiting for
the password mail. Prints one JSON object with sign-ups/s and the latency distribution."""

import argparse
import email
import email.policy
import http.client
import json
import os
import re
import statistics
import threading
import time
import urllib.parse

LINK = re.compile(r"https?://[^\s\"<>]+?(/verify/[A-Za-z0-9._~-]+)")


class Mailbox:
    """Indexes the sink's NNNN.eml files by recipient, in arrival order. The sink numbers
    them from 1 as they arrive, so a scan looks only for the next number: listing the
    directory instead slows every wait as the mails pile up."""

    def __init__(self, maildir):
        self.maildir = maildir
        self.lock = threading.Lock()
        self.next = 1
        self.by_rcpt = {}

    def scan(self):
        with self.lock:
            while True:
                base = os.path.join(self.maildir, f"{self.next:04d}")
                if not os.path.exists(base + ".eml"):
                    return
                with open(base + ".json", encoding="utf-8") as meta:
                    rcpts = json.load(meta)["rcpt_tos"]
                with open(base + ".eml", "rb") as raw:
                    message = email.message_from_bytes(raw.read(), policy=email.policy.default)
                body = message.get_body(("plain",))
                text = body.get_content() if body is not None else ""
                for rcpt in rcpts:
                    self.by_rcpt.setdefault(rcpt.lower(), []).append(text)
                self.next += 1

    def wait(self, rcpt, nth, deadline):
        """The nth (1-based) mail to rcpt, or None at the deadline."""
        while time.monotonic() < deadline:
            self.scan()
            with self.lock:
                mails = self.by_rcpt.get(rcpt, [])
                if len(mails) >= nth:
                    return mails[nth - 1]
            time.sleep(0.002)
        return None


def letters(n):
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def post(conn, path, fields, said=None):
    """POSTs the form; returns the status. For an error, what the page said (its field
    errors, or the start of its text) is appended to `said` when given."""
    body = urllib.parse.urlencode(fields)
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    page = response.read()
    if response.status >= 400 and said is not None:
        text = page.decode("utf-8", "replace")
        errors = re.findall(r'id="[^"]*-error"[^>]*>(.*?)</', text, re.S)
        said.append(" | ".join(e.strip() for e in errors if e.strip())
                    or re.sub(r"<[^>]+>|\s+", " ", text)[:200].strip())
    return response.status


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--people", type=int, default=8, help="concurrent people")
    parser.add_argument("--signups", type=int, default=200, help="total sign-ups")
    parser.add_argument("--max-seconds", type=float, default=60, help="stop starting new ones after")
    parser.add_argument("--tag", default="a", help="distinguishes runs (letters only)")
    parser.add_argument("--voucher", help="a voucher code every person enters on the form")
    args = parser.parse_args()

    target = urllib.parse.urlsplit(args.url)
    mailbox = Mailbox(args.maildir)
    lock = threading.Lock()
    next_index = [0]
    results = []  # (total, submit, verification mail, confirm, password mail)
    failures = []
    start = time.monotonic()
    stop_starting = start + args.max_seconds

    def person():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        while True:
            with lock:
                i = next_index[0]
                if i >= args.signups or time.monotonic() > stop_starting:
                    return
                next_index[0] += 1
            address = f"bench.{args.tag}.{i}@stud.uni.example"
            deadline = time.monotonic() + 60
            form = {
                "email": address,
                "consent_email": "yes",
                "consent_name": "yes",
                "first_name": "Bench",
                "last_name": f"Person {args.tag} {letters(i)}",
            }
            if args.voucher:
                form["voucher"] = args.voucher
            t0 = time.monotonic()
            said = []
            status = post(conn, "/signup", form, said)
            t1 = time.monotonic()
            if status != 200:
                failures.append(f"{address}: POST /signup {status} {said}")
                continue
            text = mailbox.wait(address, 1, deadline)
            t2 = time.monotonic()
            match = LINK.search(text or "")
            if match is None:
                failures.append(f"{address}: no verification link")
                continue
            status = post(conn, match.group(1), {})
            t3 = time.monotonic()
            if status != 200:
                failures.append(f"{address}: POST /verify {status}")
                continue
            if mailbox.wait(address, 2, deadline) is None:
                failures.append(f"{address}: no password mail")
                continue
            t4 = time.monotonic()
            with lock:
                results.append((t4 - t0, t1 - t0, t2 - t1, t3 - t2, t4 - t3))

    threads = [threading.Thread(target=person) for _ in range(args.people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start

    def ms(values):
        return round(statistics.mean(values) * 1000, 1) if values else None

    totals = sorted(r[0] for r in results)

    def pct(p):
        if not totals:
            return None
        return round(totals[min(len(totals) - 1, int(p / 100 * len(totals)))] * 1000, 1)

    print(
        json.dumps(
            {
                "people": args.people,
                "completed": len(results),
                "failed": len(failures),
                "failures": failures[:5],
                "seconds": round(elapsed, 2),
                "signups_per_s": round(len(results) / elapsed, 2) if elapsed else None,
                "mean_ms": ms(totals),
                "p50_ms": pct(50),
                "p90_ms": pct(90),
                "p99_ms": pct(99),
                "max_ms": round(totals[-1] * 1000, 1) if totals else None,
                "step_mean_ms": {
                    "submit": ms([r[1] for r in results]),
                    "verification_mail": ms([r[2] for r in results]),
                    "confirm": ms([r[3] for r in results]),
                    "password_mail": ms([r[4] for r in results]),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
