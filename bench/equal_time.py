#!/usr/bin/env python3
"""Equal time (issue 22 point 4), for bench/run: the answer to POST /password and the API's
password_reset for an address with an account vs one without, and to POST /signup and the
API's account_creation for an address with a pending sign-up vs a new one, interleaved (known, unknown, known, ...) so drift hits both alike. Prints one
JSON object with each side's median and the difference in ms.

Usage: equal_time.py --url URL --known ADDRESS [--samples N]
`--known` must have an account already (the unknown addresses are fresh each time)."""

import argparse
import http.client
import json
import statistics
import time
import urllib.parse


def post(url, path, fields):
    """POSTs `fields` as a form, or as JSON to an /api/ path; returns the milliseconds to
    the whole answer, which must be a success."""
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    if path.startswith("/api/"):
        body = json.dumps(fields)
        headers = {"Content-Type": "application/json"}
    else:
        body = urllib.parse.urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    started = time.perf_counter()
    conn.request("POST", path, body, headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    if not 200 <= response.status < 300:
        raise SystemExit(f"POST {path}: {response.status}")
    return elapsed


def compare(url, path, known, unknown, samples):
    times = {"known": [], "unknown": []}
    # Warm-up, and the pending address made pending before it is timed.
    post(url, path, known(-1))
    post(url, path, unknown(-1))
    for n in range(samples):
        times["known"].append(post(url, path, known(n)))
        times["unknown"].append(post(url, path, unknown(n)))
    k, u = statistics.median(times["known"]), statistics.median(times["unknown"])
    return {"samples": samples, "known_ms": round(k, 2), "unknown_ms": round(u, 2),
            "diff_ms": round(abs(k - u), 2)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--known", required=True)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    person = {"first_name": "Ada", "last_name": "Lovelace", "lang": "en",
              "consent_email": "yes", "consent_name": "yes"}
    result = {
        "password": compare(
            args.url, "/password",
            lambda n: {"email": args.known, "lang": "en"},
            lambda n: {"email": f"nobody.{n}@stud.uni.example", "lang": "en"},
            args.samples),
        # The same pending address every time vs a new address every time.
        "signup": compare(
            args.url, "/signup",
            lambda n: dict(person, email="pending.person@stud.uni.example"),
            lambda n: dict(person, email=f"new.person.{n}@stud.uni.example"),
            args.samples),
    }
    api_person = {"firstName": "Ada", "lastName": "Lovelace"}
    result["api_password_reset"] = compare(
        args.url, "/api/v1/password_reset",
        lambda n: {"email": args.known},
        lambda n: {"email": f"nobody.api.{n}@stud.uni.example"},
        args.samples)
    result["api_account_creation"] = compare(
        args.url, "/api/v1/account_creation",
        lambda n: dict(api_person, email="pending.api@stud.uni.example"),
        lambda n: dict(api_person, email=f"new.api.{n}@stud.uni.example"),
        args.samples)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
