#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) on 127.0.0.1 with a kernel-chosen port, for the email tests.

Prints "PORT <n>" once listening. Each accepted message is written to DIR/<n>.json with the
envelope, whether the session authenticated and as whom, the raw message, its headers and
its decoded text/plain and text/html parts (parsed by Python's email package, so a
malformed MIME message shows up as missing parts). Recipients given with --reject get
"550 5.1.1 ... User unknown", those given with --defer "451 4.7.1 ... try again later".
Run with Debian's /usr/bin/python3 (python3-aiosmtpd); a pyenv python3 may lack aiosmtpd.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.args.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address in self.args.defer:
            return "451 4.7.1 <%s>: greylisted, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_type()] = part.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "authenticated": bool(getattr(session, "authenticated", False)),
            "login": getattr(session, "creditwatch_login", None),
            "raw": raw.decode("utf-8", "replace"),
            "headers": {k: str(v) for k, v in message.items()},
            "content_type": message.get_content_type(),
            "parts": parts,
        }
        path = os.path.join(self.args.dir, "%d.json" % self.count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK queued as cw%d" % self.count


def authenticator(args):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        if ok:
            session.creditwatch_login = args.user
        return AuthResult(success=ok, handled=False)
    return check


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    args = parser.parse_args()
    handler = Handler(args)
    auth = {}
    if args.user:
        # Plain text AUTH is fine on loopback; aiosmtpd refuses it without TLS by default.
        auth = {"authenticator": authenticator(args), "auth_required": True, "auth_require_tls": False}
    loop = asyncio.get_running_loop()
    # create_server binds port 0 itself, which aiosmtpd's Controller cannot (it probes the port).
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp.test", **auth), host="127.0.0.1", port=0)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
