"""Fixtures for the whole suite."""

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

CATALOGUE = Path(__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def pytest_configure(config):
    """The English catalogue as the tests need it: `make setup` compiles it; a .po edited since
    (or a bare `pytest` on a fresh clone) is compiled here, so no test reads a stale .mo."""
    compiled = CATALOGUE.with_suffix(".mo")
    if compiled.exists() and compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime:
        return
    if shutil.which("msgfmt") is None:
        raise pytest.UsageError("msgfmt is missing: run `make test` (it installs Debian's gettext)")
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(CATALOGUE)], check=True)  # noqa: S603, S607


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpSink:
    """A real SMTP server on loopback that keeps what it receives."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    peers: list[tuple] = field(default_factory=list)  # the client end of each message's connection
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    controller: Controller | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.peers.append(session.peer)
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def mailer(self) -> dict:
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 5},
            }
        }


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpSink]:
    """An SMTP server started for the test; MAILERS points at it."""
    sink = SmtpSink(port=free_port())
    sink.start()
    settings.MAILERS = sink.mailer
    yield sink
    sink.stop()
