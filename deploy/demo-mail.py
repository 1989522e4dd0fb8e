#!/usr/bin/python3
"""The demo's mailbox: a local SMTP server (aiosmtpd, Debian's python3-aiosmtpd) that keeps every message
habilisd sends as an .eml file (any mail client opens it) and its text as a .txt beside it, and prints the
link or code each one carries, so that a newcomer can follow an activation or a login at once.

    deploy/demo-mail.py --port 2525 --dir data/mail
"""
import argparse
import email
import email.policy
import os
import re
import time

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self, directory):
        self.directory = directory
        self.count = len([f for f in os.listdir(directory) if f.endswith(".eml")])

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.count += 1
        to = re.sub(r"[^A-Za-z0-9@._-]", "_", ",".join(envelope.rcpt_tos))
        path = os.path.join(self.directory, f"{self.count:04d}-{to}.eml")
        with open(path + ".part", "wb") as out:
            out.write(envelope.content)
        os.replace(path + ".part", path)
        text = message.get_body(preferencelist=("plain",)).get_content()
        with open(path[:-4] + ".txt", "w") as out:
            out.write(f"To: {','.join(envelope.rcpt_tos)}\nSubject: {message['Subject']}\n\n{text}")
        token = re.search(r"token=(\S+)", text)
        code = re.search(r"\b(\d{6})\b", text)
        hint = f"  token {token.group(1)}" if token else (f"  code {code.group(1)}" if code else "")
        print(f"demo-mail: {time.strftime('%H:%M:%S')} to {','.join(envelope.rcpt_tos)}: "
              f"{message['Subject']}  -> {path}{hint}", flush=True)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", default="data/mail")
    args = parser.parse_args()
    os.makedirs(args.dir, mode=0o700, exist_ok=True)
    controller = Controller(Mailbox(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"demo-mail: SMTP on 127.0.0.1:{args.port}, messages kept in {args.dir}/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
