#!/usr/bin/env python3
"""A loopback SMTP server for the integration tests (tests/api/smtp.rs starts it).

It listens on 127.0.0.1, speaks plain SMTP, STARTTLS or implicit TLS, optionally requires
AUTH PLAIN/LOGIN with one user and password (anything else gets 535), and writes every message
it accepts as raw RFC 5322 into --maildir: NNNN.eml plus NNNN.json with the envelope. The file
is complete before the server answers 250, so once the sender has its answer the mail is there.

A mailbox listed in --maildir's `refused` file (one address a line, read at every RCPT) is
refused for good at RCPT TO with "550 5.1.1", as a mail server answers for a mailbox that no
longer exists.

When listening it prints "READY <port>" on stdout (with --port 0 the port is chosen by the OS).
"""

import argparse
import asyncio
import itertools
import json
import os
import ssl
import sys

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:
    sys.stderr.write(
        "tests/smtp_server.py needs the Python package aiosmtpd: pip install aiosmtpd==1.4.6\n"
    )
    sys.exit(3)


class Maildir:
    """Saves each accepted message; numbered so the tests see them in arrival order."""

    def __init__(self, directory):
        self.directory = directory
        existing = [name for name in os.listdir(directory) if name.endswith(".eml")]
        self.counter = itertools.count(len(existing) + 1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refused = os.path.join(self.directory, "refused")
        try:
            with open(refused, encoding="utf-8") as listed:
                gone = {line.strip().lower() for line in listed if line.strip()}
        except FileNotFoundError:
            gone = set()
        if address.lower() in gone:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        number = next(self.counter)
        base = os.path.join(self.directory, f"{number:04d}")
        # Written under a temporary name and renamed, so a reader never sees half a mail.
        with open(base + ".json.tmp", "w", encoding="utf-8") as meta:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, meta)
        os.replace(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as raw:
            raw.write(envelope.original_content or envelope.content)
        os.replace(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Message accepted for delivery"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False lets aiosmtpd answer "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=ok, handled=False)

    return authenticate


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def serve(args):
    context = tls_context(args.cert, args.key) if args.mode != "plain" else None
    handler = Maildir(args.maildir)
    auth = {}
    if args.user is not None:
        auth = dict(
            authenticator=authenticator_for(args.user, args.password or ""),
            auth_required=True,
            # In implicit-TLS mode aiosmtpd does not know the socket is encrypted.
            auth_require_tls=args.mode == "starttls",
        )

    def factory():
        return SMTP(
            handler,
            hostname="smtp.test",
            tls_context=context if args.mode == "starttls" else None,
            require_starttls=args.mode == "starttls",
            **auth,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory,
        host="127.0.0.1",
        port=args.port,
        ssl=context if args.mode == "tls" else None,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=["starttls", "tls", "plain"], default="starttls")
    parser.add_argument("--user", help="require AUTH with this user (no AUTH when absent)")
    parser.add_argument("--password")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--cert", default=os.path.join(here, "fixtures/smtp/server.pem"))
    parser.add_argument("--key", default=os.path.join(here, "fixtures/smtp/server.key"))
    parser.add_argument("--maildir", required=True)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
