"""Fixtures of the webhooks' tests: local receivers (http.server in threads), committed
endpoints and events, and a clean slate afterwards."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.events.models import Delivery, OutboxEvent
from apps.events.relay import drain
from apps.webhooks import services
from tests.eventapp.services import widget_change

TENANTS = ("acme", "globex")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local webhook receiver. ``answers`` (status codes) are used in turn, then 200; while
    ``hold`` is set, each request waits (at most ``hold_seconds``) until ``release`` is set."""

    answers: list[int] = field(default_factory=list)
    body: bytes = b"ok"
    hold: bool = False
    hold_seconds: float = 10.0
    received: list[Received] = field(default_factory=list)
    answered: int = 0  # requests answered so far (a held one is not, until it ends)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks?source=platform"

    @property
    def port(self) -> int:
        return self.server.server_address[1]


def _handler_for(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            receiver.arrived.set()
            if receiver.hold:
                receiver.release.wait(receiver.hold_seconds)
            status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", str(len(receiver.body)))
            self.end_headers()
            self.wfile.write(receiver.body)
            receiver.answered += 1

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receivers() -> Iterator:
    started: list[Receiver] = []

    def start(*, tls: tuple[str, str] | None = None, **options) -> Receiver:
        receiver = Receiver(**options)
        receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
        receiver.server.daemon_threads = True
        threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.release.set()
        receiver.server.shutdown()
        receiver.server.server_close()


def certificate(directory, name: str) -> tuple[str, str]:
    """A self-signed certificate for ``name`` (its own authority): (cert file, key file)."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture
def receiver(receivers) -> Receiver:
    return receivers()


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    """The receivers are on this machine: the operator settings that allow it are on (the
    SSRF tests turn them off again)."""
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


def wipe() -> None:
    Delivery.objects.all().delete()
    OutboxEvent.objects.all().delete()
    for schema in TENANTS:
        with schema_context(schema), connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE webhooks_webhookattempt, webhooks_webhookdelivery, "
                "webhooks_webhookendpoint, events_processed, eventapp_effect, eventapp_widget, "
                "index_aggregate_activity"
            )


@pytest.fixture
def committed(live_db):
    """Committed-data tests (the relay, workers): start and end with no webhooks or events."""
    wipe()
    yield
    connection.set_schema_to_public()
    wipe()


def endpoint_in(schema: str, url: str, event_types=("*",), **fields):
    with schema_context(schema):
        return services.endpoint_create(url=url, event_types=list(event_types), **fields)


def publish_widget(schema: str, note: str = "hello"):
    """A committed ``testing.widget.changed`` event of ``schema`` (through its service)."""
    import uuid

    with schema_context(schema):
        return widget_change(widget_id=uuid.uuid4(), note=note)


def relay() -> None:
    """Run the outbox's subscribers, as the relay worker would."""
    drain()
