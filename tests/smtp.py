"""A real SMTP server for tests (aiosmtpd) that keeps what it receives.

Every test may ask for ``smtp_server`` (tests/conftest.py makes the fixtures here available),
then point the app at it with ``use_smtp(app, smtp_server)``; or for ``smtp``, the server with
the app already pointed at it. ``stop()`` and ``start()`` take it down and bring it back on
the same port, to test failures and retries.
"""

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

# A recipient address containing this is refused by the server (550), to test that one
# refused recipient fails only their own message.
REFUSED_MARK = "refused"


def free_port() -> int:
    """A port nobody listens on now (port=0 is not supported by every aiosmtpd version)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


class Collector:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if REFUSED_MARK in address:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    handler: Collector = field(default_factory=Collector)
    controller: Controller | None = None

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self.handler, hostname=self.host, port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.received.clear()


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(app, smtp_server):
    """The server, with the app sending through it."""
    use_smtp(app, smtp_server)
    return smtp_server


def use_smtp(app, server: SmtpServer | None) -> None:
    """Configure the app to send through ``server`` and deliver synchronously (``None``: no
    SMTP server at all, messages go to the outbox folder)."""
    app.config.update(
        SMTP_HOST=server.host if server else "",
        SMTP_PORT=server.port if server else 25,
        SMTP_STARTTLS=False,
        SMTP_USER="",
        SMTP_TIMEOUT=5,
        MAIL_DELIVERY="sync",
        BASE_URL="https://renkei.example.jp",
        MAIL_FROM="",
    )
