"""A real SMTP server in its own process, for the fault suite: stopping it is a real outage.

    python tests/faults/smtp_sink.py PORT LOGFILE [SECONDS_PER_MESSAGE]

Appends one JSON line per message received (Message-ID, recipient, subject) to LOGFILE, flushed
before the 250 reply, so that what was accepted survives the process being stopped. An optional
delay per message makes a batch last long enough to kill its worker in the middle.
"""

import asyncio
import json
import signal
import sys
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, log_path: str, delay: float):
        self.log = open(log_path, "a", encoding="utf-8")  # for the life of the process
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        entry = {
            "message_id": message["Message-ID"],
            "to": envelope.rcpt_tos,
            "subject": str(message["Subject"]),
            "at": time.time(),
        }
        self.log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.log.flush()
        return "250 OK"


def main() -> None:
    port, log_path = int(sys.argv[1]), sys.argv[2]
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    controller = Controller(Sink(log_path, delay), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"smtp sink listening on 127.0.0.1:{port}", flush=True)
    stop = False

    def on_term(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    while not stop:
        time.sleep(0.1)
    controller.stop()


if __name__ == "__main__":
    main()
