"""A fake card gateway: a stand-in for the outside card processor, for dev, demo and tests only.

It is not part of the platform and holds no real money: the ``test_card`` provider talks to
it over HTTP exactly as it would talk to a real processor, so timeouts, retries, idempotency
and the circuit breaker are exercised for real. In production the ``test_card`` provider is
disabled (``PAYMENT_PROVIDERS`` lists only ``manual`` unless a deployment enables it on
purpose), and nothing else uses this server.

Run it with only the standard library::

    python -m apps.commerce.payments.fake_gateway --port 8090 [--slow-seconds 10]

API (JSON in and out):

- ``POST /v1/charges`` ``{amount, currency, card: {number, exp_month, exp_year, cvc},
  reference}`` with an ``Idempotency-Key`` header. Test cards: 4242 4242 4242 4242 and
  5555 5555 5555 4444 are approved, 4000 0000 0000 0002 declined (``card_declined``),
  4000 0000 0000 9995 declined (``insufficient_funds``), 4000 0000 0000 0069 declined
  (``expired_card``), 4000 0000 0000 0119 is approved after sleeping ``--slow-seconds``
  (past a client's timeout). Any other Luhn-valid number is approved; a number that fails
  the Luhn check is declined (``incorrect_number``). Answers 201 ``{id: "ch_...", status:
  "succeeded", ...}`` or 402 ``{id, status: "declined", decline_code, message}``; 400 for a
  malformed request.
- The same ``Idempotency-Key`` with the same body replays the first answer; with another
  body it is 422 ``idempotency_key_reused``.
- ``POST /v1/refunds`` ``{charge, amount, currency}`` with an ``Idempotency-Key``: 201
  ``{id: "re_...", status: "succeeded"}``, 402 when more than the charge's remainder.
- ``GET /v1/charges?reference=...``: the charges made for a reference; with
  ``idempotency_key=...`` only the charge made with that key (each charge records the key it
  was made with, as a real processor keeps it in the charge's metadata). A charge whose
  request is still being worked on is listed as ``{"status": "processing", ...}``.
- ``GET /health``: ``{"status": "ok"}``.

Tests make it fail on purpose: ``Gateway.fail_next(n)`` answers the next ``n`` requests to
``/v1/...`` (charges, refunds and look-ups) with 503 (an outage) before reading them;
``Gateway.lose_next(n)`` reads the next ``n`` POSTs and never acts on them: it holds each
for ``slow_seconds`` (past a client's timeout) and closes the connection, as a request lost
on its way to the processor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import secrets
import sys
import threading
import time
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from apps.commerce.payments.cards import luhn_valid, normalize_card_number

DECLINES = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": ("expired_card", "Your card has expired."),
}
SLOW_CARD = "4000000000000119"
MAX_BODY = 64 * 1024


class BadRequest(Exception):
    pass


def _amount(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise BadRequest("amount must be a decimal string") from None
    if isinstance(value, float) or not amount.is_finite() or amount <= 0:
        raise BadRequest("amount must be a positive decimal string")
    return amount


def _currency(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise BadRequest("currency must be an ISO 4217 code")
    return value


class Gateway:
    """The gateway's state: charges, refunds and the answers stored per idempotency key."""

    def __init__(self, slow_seconds: float = 10.0) -> None:
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.charged = threading.Condition(self.lock)  # notified when a charge is stored
        self.charges: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.answers: dict[str, tuple[str, int, dict]] = {}  # key -> (body hash, status, body)
        self.key_locks: dict[str, threading.Lock] = {}
        self.requests = 0  # POSTs received, replays included
        self.outages = 0  # requests still to answer with 503 (``fail_next``)
        self.losses = 0  # POSTs still to drop unanswered (``lose_next``)
        self.in_flight: dict[str, dict] = {}  # key -> the charge request being worked on

    def fail_next(self, count: int) -> None:
        """Answer the next ``count`` requests with 503 before looking at them (an outage)."""
        with self.lock:
            self.outages = count

    def lose_next(self, count: int) -> None:
        """Drop the next ``count`` POSTs unanswered, after ``slow_seconds``, acting on none."""
        with self.lock:
            self.losses = count

    def take_outage(self) -> bool:
        """Whether this request falls in an outage (counted in ``requests`` as received)."""
        with self.lock:
            if self.outages <= 0:
                return False
            self.outages -= 1
            self.requests += 1
            return True

    def take_loss(self) -> bool:
        """Whether this POST is lost on its way (counted in ``requests`` as received)."""
        with self.lock:
            if self.losses <= 0:
                return False
            self.losses -= 1
            self.requests += 1
            return True

    def idempotent(self, key: str, body: dict, make) -> tuple[int, dict]:
        """``make()``'s answer for a new key; the stored answer for a key seen with this body."""
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self.lock:
            self.requests += 1
            key_lock = self.key_locks.setdefault(key, threading.Lock())
        with key_lock:  # a retry that arrives while the first is in flight waits for its answer
            stored = self.answers.get(key)
            if stored is not None:
                if stored[0] != digest:
                    return 422, {
                        "error": "idempotency_key_reused",
                        "message": "This Idempotency-Key was used with a different request.",
                    }
                return stored[1], stored[2]
            status, answer = make()
            if status < 500:
                self.answers[key] = (digest, status, answer)
            return status, answer

    def charge(self, body: dict, key: str = "") -> tuple[int, dict]:
        amount, currency = _amount(body.get("amount")), _currency(body.get("currency"))
        card = body.get("card")
        reference = body.get("reference")
        if not isinstance(card, dict) or not isinstance(reference, str) or not reference:
            raise BadRequest("card and reference are required")
        number = normalize_card_number(str(card.get("number", "")))
        if not number.isdigit() or not 12 <= len(number) <= 19:
            raise BadRequest("card.number must be 12 to 19 digits")
        with self.lock:  # listed as "processing" by a look-up until it is stored
            self.in_flight[key] = {
                "id": "", "amount": str(amount), "currency": currency, "reference": reference,
                "idempotency_key": key, "status": "processing",
            }  # fmt: skip
        try:
            charge, decline = self._decide(number, card, amount, currency, reference, key)
        finally:
            with self.lock:
                self.in_flight.pop(key, None)
        return (201 if decline is None else 402), charge

    def _decide(self, number, card, amount, currency, reference, key) -> tuple[dict, tuple | None]:
        """The charge made (stored, with its decline if any), after the slow card's sleep."""
        if number == SLOW_CARD:
            time.sleep(self.slow_seconds)
        charge = {
            "id": f"ch_{secrets.token_hex(12)}",
            "amount": str(amount),
            "currency": currency,
            "reference": reference,
            "idempotency_key": key,
            "last4": number[-4:],
            "refunded": "0",
            "status": "succeeded",
            "decline_code": "",
            "message": "",
        }
        decline = DECLINES.get(number)
        if decline is None and not luhn_valid(number):
            decline = ("incorrect_number", "Your card number is incorrect.")
        if decline is None and self._expired(card):
            decline = DECLINES["4000000000000069"]
        if decline is not None:
            charge.update(status="declined", decline_code=decline[0], message=decline[1])
        with self.lock:
            self.in_flight.pop(key, None)
            self.charges[charge["id"]] = charge
            self.charged.notify_all()
        return charge, decline

    @staticmethod
    def _expired(card: dict) -> bool:
        try:
            month, year = int(card.get("exp_month")), int(card.get("exp_year"))
        except (TypeError, ValueError):
            raise BadRequest("card.exp_month and card.exp_year must be numbers") from None
        now = time.gmtime()
        return (year, month) < (now.tm_year, now.tm_mon)

    def refund(self, body: dict, key: str = "") -> tuple[int, dict]:
        amount, currency = _amount(body.get("amount")), _currency(body.get("currency"))
        with self.lock:
            charge = self.charges.get(str(body.get("charge")))
            if charge is None or charge["status"] != "succeeded":
                return 404, {"error": "no_such_charge", "message": "No such successful charge."}
            if currency != charge["currency"]:
                raise BadRequest("currency must be the charge's")
            remainder = Decimal(charge["amount"]) - Decimal(charge["refunded"])
            if amount > remainder:
                return 402, {
                    "id": "", "status": "declined", "decline_code": "amount_too_large",
                    "message": "The refund is larger than what is left of the charge.",
                }  # fmt: skip
            charge["refunded"] = str(Decimal(charge["refunded"]) + amount)
            refund = {
                "id": f"re_{secrets.token_hex(12)}", "charge": charge["id"], "amount": str(amount),
                "currency": currency, "status": "succeeded", "decline_code": "", "message": "",
            }  # fmt: skip
            self.refunds[refund["id"]] = refund
        return 201, refund

    def _charges_for(self, reference: str) -> list[dict]:
        return [dict(c) for c in self.charges.values() if c["reference"] == reference]

    def charges_for(self, reference: str) -> list[dict]:
        with self.lock:
            return self._charges_for(reference)

    def lookup(self, reference: str, key: str) -> list[dict]:
        """The charges of ``reference`` (made with ``key`` when given), those still being
        worked on included (as ``processing``)."""
        with self.lock:
            found = [*self._charges_for(reference), *map(dict, self.in_flight.values())]
        return [
            charge for charge in found
            if charge["reference"] == reference and (not key or charge["idempotency_key"] == key)
        ]  # fmt: skip

    def wait_for_charges(self, reference: str, count: int, timeout: float) -> list[dict]:
        """The charges of ``reference`` once there are ``count`` (a slow one has finished),
        or those there are after ``timeout`` seconds."""
        with self.charged:
            self.charged.wait_for(lambda: len(self._charges_for(reference)) >= count, timeout)
            return self._charges_for(reference)


class Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            self._send(200, {"status": "ok"})
        elif url.path == "/v1/charges":
            if self.server.gateway.take_outage():
                self._send(503, {"error": "unavailable", "message": "Try again later."})
                return
            query = parse_qs(url.query)
            reference = query.get("reference", [""])[0]
            key = query.get("idempotency_key", [""])[0]
            self._send(200, {"data": self.server.gateway.lookup(reference, key)})
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        gateway = self.server.gateway
        operations = {"/v1/charges": gateway.charge, "/v1/refunds": gateway.refund}
        operation = operations.get(urlsplit(self.path).path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._send(400, {"error": "bad_request", "message": "bad Content-Length"})
            return
        raw = self.rfile.read(length)
        if operation is None:
            self._send(404, {"error": "not_found"})
            return
        if gateway.take_outage():
            self._send(503, {"error": "unavailable", "message": "Try again later."})
            return
        if gateway.take_loss():
            time.sleep(gateway.slow_seconds)
            self.close_connection = True
            return
        key = self.headers.get("Idempotency-Key", "").strip()
        try:
            body = json.loads(raw or b"null")
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
            if not key or len(key) > 255:
                raise BadRequest("an Idempotency-Key header is required")
            status, answer = gateway.idempotent(key, body, lambda: operation(body, key))
        except (BadRequest, json.JSONDecodeError) as exc:
            status, answer = 400, {"error": "bad_request", "message": str(exc)}
        self._send(status, answer)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, slow_seconds: float, verbose: bool = False):
        self.gateway = Gateway(slow_seconds=slow_seconds)
        self.verbose = verbose
        super().__init__(address, Handler)

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timed out) before its answer was written: nothing to report.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def start(
    host: str = "127.0.0.1", port: int = 0, *, slow_seconds: float = 10.0
) -> tuple[GatewayServer, threading.Thread]:
    """A gateway serving in a background thread (port 0: a free one; see ``server_address``)."""
    server = GatewayServer((host, port), slow_seconds=slow_seconds)
    thread = threading.Thread(target=server.serve_forever, name="fake-gateway", daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--slow-seconds", type=float, default=10.0, help="how long the slow test card sleeps"
    )
    args = parser.parse_args(argv)
    server = GatewayServer((args.host, args.port), slow_seconds=args.slow_seconds, verbose=True)
    print(f"fake card gateway on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
