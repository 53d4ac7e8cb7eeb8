"""A local SMTP server for the tests of the order emails: the outside mail relay, stood in for
by aiosmtpd on a free port. It accepts every message and keeps it, parsed."""

from __future__ import annotations

import email
import socket
import threading
import time
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """The messages the server accepted, in the order it accepted them."""

    def __init__(self) -> None:
        self.received = threading.Condition()
        self.messages: list[EmailMessage] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=_free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.received:
            self.messages.append(message)
            self.received.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        """The messages once there are at least ``count`` (an AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self.received:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.messages)} of {count} emails within {timeout} s"
                    )
                self.received.wait(left)
            return list(self.messages)


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
