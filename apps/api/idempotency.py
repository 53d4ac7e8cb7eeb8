"""``Idempotency-Key`` on every POST of the API, with Stripe's semantics.

A client that sends ``Idempotency-Key: <1 to 255 printable characters>`` with a POST may
send the same request again (after a timeout, a lost connection, a crash of its own) and
get the first answer instead of a second effect:

- The first answer (status, body and the headers that matter: ``Content-Type``,
  ``Location``, ``ETag``, ``Retry-After``) is stored for 24 hours per tenant (the table is
  in the tenant's schema), principal (the API key, else the staff user, else "anonymous"
  for the storefront's cart endpoints, whose paths carry the cart's secret token), method,
  path and key. Another principal, path or tenant using the same key starts afresh and
  never sees the stored answer.
- A retry with the same key and the same body (the SHA-256 of the canonical body: JSON
  re-encoded with sorted keys, a form with its files' digests) gets the stored answer with
  ``Idempotent-Replayed: true``; the same key with another body is a 422.
- While the first request runs, a retry is a 409: the first holds a PostgreSQL session
  advisory lock on the key's scope. Its connection ends when its process does, so a
  crashed worker never leaves a key locked.
- Answers of 4xx are stored, as Stripe does: the same request would be refused the same
  way, and a client that changed its mind sends a new key. Answers of 5xx (and requests
  that crash) are not stored: the client may retry them with the same key.
- Authentication, permission and throttling refusals come before the key is looked at
  and are never stored (there is no principal to store them for).

The answer is stored after the view's own transaction committed, in a transaction of its
own (the row and its mark in the tenants' due-work index): a process that dies between the
two leaves the effect without its answer, and a retry then runs again (the window Stripe
has too). Rows older than 24 hours are ignored at once and deleted by
``api.prune_idempotent_responses``, which beat runs hourly and which visits only the
tenants with answers past their 24 hours.

This module never runs a view's logic: ``IdempotentPostMixin`` wraps every view set of the
API (``apps.api.viewsets.ApiViewSetMixin``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from apps.core.errors import Conflict, PlatformError
from apps.tenancy.services import due_work_kind, work_due

from .models import IdempotentResponse

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
# The job that deletes them, by its name in the due-work index.
PRUNE_JOB = due_work_kind("api.prune_idempotent_responses")
# Printable ASCII, not only spaces (a header's edges are trimmed before it gets here).
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
STORED_HEADERS = ("Content-Type", "Content-Language", "Location", "ETag", "Retry-After")


class IdempotencyKeyInvalid(PlatformError):
    status = 400
    code = "idempotency_key_invalid"
    title = gettext_lazy("Invalid Idempotency-Key")


class IdempotencyKeyReused(PlatformError):
    status = 422
    code = "idempotency_key_reused"
    title = gettext_lazy("Idempotency-Key reused with another request")


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency_key_in_flight"
    title = gettext_lazy("A request with this Idempotency-Key is still running")


class Replay(Exception):
    """Raised by ``claim`` with the stored answer; the mixin answers it instead of the view."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response
        super().__init__("replay")


def principal_of(request) -> str:
    """Who sends the request: its API key, else its user, else "anonymous"."""
    key = getattr(request, "auth", None)
    if getattr(key, "is_publishable", None) is not None:
        return f"key:{key.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "anonymous"


def _canonical(value: Any) -> Any:
    """``value`` (parsed JSON or a form) as something ``json.dumps`` writes one way only."""
    if isinstance(value, QueryDict):
        return {name: [_canonical(item) for item in value.getlist(name)] for name in value}
    if hasattr(value, "chunks") and hasattr(value, "name"):  # an uploaded file
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if isinstance(value, dict):
        return {str(name): _canonical(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def fingerprint(data: Any) -> str:
    """The SHA-256 of a request's canonical body (``request.data``)."""
    text = json.dumps(
        _canonical(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def clean_key(raw: str | None) -> str | None:
    """The request's key, None without one; ``IdempotencyKeyInvalid`` for a malformed one."""
    if raw is None:
        return None
    key = raw.strip()
    if not KEY_PATTERN.fullmatch(key):
        raise IdempotencyKeyInvalid(
            gettext("The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
        )
    return key


@dataclass
class Claim:
    """A key this process holds (its advisory lock) until the answer is stored."""

    scope: str
    lock_id: int
    principal: str
    method: str
    path: str
    key: str
    fingerprint: str
    released: bool = False

    def record(self, response: HttpResponse) -> None:
        """Store ``response`` (rendered now) unless it is a 5xx."""
        if response.status_code >= 500 or getattr(response, "streaming", False):
            return
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
        row = IdempotentResponse(
            scope=self.scope, principal=self.principal, method=self.method, path=self.path,
            key=self.key, fingerprint=self.fingerprint, status=response.status_code,
            headers=headers, body=bytes(response.content), created_at=timezone.now(),
        )  # fmt: skip
        with transaction.atomic():
            # One statement; an expired row of the same scope (not pruned yet) is replaced.
            IdempotentResponse.objects.bulk_create(
                [row],
                update_conflicts=True,
                unique_fields=["scope"],
                update_fields=["fingerprint", "status", "headers", "body", "created_at"],
            )
            work_due(kind=PRUNE_JOB, at=row.created_at + RETENTION)

    def release(self) -> None:
        if not self.released:
            self.released = True
            _unlock(self.lock_id)


def _lock_id(scope: str) -> int:
    """A signed 64-bit advisory lock id of a scope digest (which names the schema too)."""
    return int.from_bytes(bytes.fromhex(scope[:16]), "big", signed=True)


def _try_lock(lock_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        return cursor.fetchone()[0]


def _unlock(lock_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def claim(request) -> Claim | None:
    """Take the request's key: None without one, a ``Claim`` for a first request.

    Raises ``Replay`` with the stored answer for a retry, ``IdempotencyKeyReused`` (422) for
    the key with another body, ``IdempotencyKeyInFlight`` (409) while the first still runs.
    """
    key = clean_key(request.headers.get(HEADER))
    if key is None:
        return None
    principal, method, path = principal_of(request), request.method, request.path
    body_fingerprint = fingerprint(request.data)  # a malformed body is its 400 here
    parts = "\0".join((connection.schema_name, principal, method, path, key))
    scope = hashlib.sha256(parts.encode()).hexdigest()
    lock_id = _lock_id(scope)
    if not _try_lock(lock_id):
        raise IdempotencyKeyInFlight(
            gettext(
                "A request with this Idempotency-Key is still being processed; "
                "retry when it has finished."
            )
        )
    try:
        stored = IdempotentResponse.objects.filter(
            scope=scope, created_at__gte=timezone.now() - RETENTION
        ).first()
    except BaseException:
        _unlock(lock_id)
        raise
    if stored is None:
        return Claim(scope, lock_id, principal, method, path, key, body_fingerprint)
    _unlock(lock_id)
    if stored.fingerprint != body_fingerprint:
        raise IdempotencyKeyReused(
            gettext(
                "This Idempotency-Key was used with another request body; "
                "send a new key for a new request."
            )
        )
    raise Replay(_replayed(stored))


def _replayed(stored: IdempotentResponse) -> HttpResponse:
    response = HttpResponse(bytes(stored.body), status=stored.status)
    for name, value in stored.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def prune(now: datetime | None = None) -> int:
    """Delete this schema's answers older than 24 hours at ``now`` (one statement); how many
    went."""
    deleted, _ = IdempotentResponse.objects.filter(
        created_at__lt=(now or timezone.now()) - RETENTION
    ).delete()
    return deleted


def next_prune_at() -> datetime | None:
    """When this schema's oldest stored answer is 24 hours old (``None``: none is stored)."""
    oldest = IdempotentResponse.objects.aggregate(oldest=Min("created_at"))["oldest"]
    return oldest + RETENTION if oldest else None


class IdempotentPostMixin:
    """Every POST of a view set honours ``Idempotency-Key`` (after authentication,
    permissions and throttling, before the view runs)."""

    _idempotency: Claim | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            self._idempotency = claim(request)

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotency is not None:
            self._idempotency.record(response)
        return response

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # Also when the view crashed (a 500, never stored): the key is free for a retry.
            if self._idempotency is not None:
                self._idempotency.release()
                self._idempotency = None
