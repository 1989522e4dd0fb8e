#!/usr/bin/python3
"""A real SMTP server for the integration tests (aiosmtpd, from Debian's python3-aiosmtpd).

Listens on 127.0.0.1 (a free port unless one is given), prints {"ready": PORT} once it accepts connections,
then one JSON line per message: {"to", "subject", "body", "message_id", "kind"}. With --refuse-first N it
answers the first N messages with a temporary failure (451), printing {"refused": message_id} for each, so
that tests can watch the sender retry. With --tls-cert and --tls-key it requires STARTTLS; with --auth-file
(user name, then password, one per line) it requires that login, over TLS. Stops when its standard input closes.
"""
import argparse
import email
import email.policy
import json
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, refuse_first):
        self.refuse_left = refuse_first

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if self.refuse_left > 0:
            self.refuse_left -= 1
            print(json.dumps({"refused": message["Message-ID"]}), flush=True)
            return "451 4.3.0 try again later"
        body = message.get_body(preferencelist=("plain",)).get_content()
        print(json.dumps({"to": ",".join(envelope.rcpt_tos), "subject": str(message["Subject"]), "body": body,
                          "message_id": message["Message-ID"], "kind": message["X-Habilis-Kind"]}), flush=True)
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--refuse-first", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--auth-file")
    args = parser.parse_args()
    port = args.port or free_port()
    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.auth_file:
        with open(args.auth_file) as f:
            expected = [line.rstrip("\n") for line in f.readlines()[:2]]

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == expected[0] and auth_data.password.decode() == expected[1]
            print(json.dumps({"auth": "accepted" if ok else "refused"}), flush=True)
            return AuthResult(success=ok)

        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=True)
    controller = Controller(Handler(args.refuse_first), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(json.dumps({"ready": port}), flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
