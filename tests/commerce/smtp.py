"""A local SMTP server for the tests of the order emails: the outside mail relay, stood in for
by aiosmtpd on a free port. It accepts every message and keeps it, parsed."""

from __future__ import annotations

import asyncio
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
        self.held = 0  # messages that reached DATA while the gate was closed
        self.gate = threading.Event()
        self.gate.set()
        self.accept_held = True
        self.controller = Controller(self, hostname="127.0.0.1", port=_free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def hold(self) -> None:
        """Keep each sender waiting at the end of DATA, its message not yet accepted."""
        self.gate.clear()

    def release(self, *, accept: bool) -> None:
        """Answer the held senders: accept their messages, or refuse them (451). Later ones
        are accepted."""
        self.accept_held = accept
        self.gate.set()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        if not self.gate.is_set():
            with self.received:
                self.held += 1
                self.received.notify_all()
            await asyncio.to_thread(self.gate.wait)
            if not self.accept_held:
                return "451 Requested action aborted: try again later"
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
