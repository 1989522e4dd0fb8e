#!/usr/bin/python3
"""A real SMTP server for the integration tests (aiosmtpd, from Debian's python3-aiosmtpd).

Listens on 127.0.0.1 (a free port unless one is given), prints {"ready": PORT} once it accepts connections,
then one JSON line per message: {"to", "subject", "body", "message_id", "kind"}. With --refuse-first N it
answers the first N messages with a temporary failure (451), printing {"refused": message_id} for each, so
that tests can watch the sender retry. Stops when its standard input closes.
"""
import argparse
import email
import email.policy
import json
import socket
import sys

from aiosmtpd.controller import Controller


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
    args = parser.parse_args()
    port = args.port or free_port()
    controller = Controller(Handler(args.refuse_first), hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"ready": port}), flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
