"""Every write of the webhooks: endpoints, the deliveries the outbox makes, the attempts.

Deliveries are made by the outbox subscriber (``handlers``) in the relay's tenant
transaction, with the relay's ledger entry: none is lost in a crash, none is made for a
write that rolled back, and a replayed event makes none twice (one row per endpoint and
event). No HTTP request is ever made inside a transaction: ``delivery_attempt`` takes a
due delivery in one short transaction, sends outside any, and records the outcome in
another. A receiver that keeps failing trips the endpoint's breaker: the endpoint is
disabled and the tenant's administrators are told.
"""

from __future__ import annotations

import contextlib
import json
import logging
import operator
import re
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from apps.core import error_policy, kv
from apps.core.breakers import BROKER, REDIS, guarded, report
from apps.core.error_policy import Action, ErrorPolicy
from apps.events.envelope import StoredEvent
from apps.events.schema import known_event_types
from apps.people.selectors import administrator_emails
from apps.tenancy.services import due_work_kind, work_due

from . import addresses, metrics, sender, signing
from .errors import DeliveryNotFound, EndpointInvalid, EndpointNotFound, UnsafeUrl
from .models import (
    DESCRIPTION_MAX,
    EVENT_TYPE_MAX,
    URL_MAX,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

MAX_EVENT_TYPES = 50
ALL_EVENTS = "*"
_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$")


class RetryableFailure(Exception):
    """A receiver did not take the delivery (an error status, a timeout, no connection)."""


def retry_policy() -> ErrorPolicy:
    return error_policy.policy("webhooks")


# -- endpoints -----------------------------------------------------------------------------


def _clean_event_types(value: Iterable[Any] | None) -> list[str]:
    types = [str(item).strip() for item in (value or [])]
    if not types:
        raise EndpointInvalid(
            {"event_types": gettext("Name at least one event type, or * for every event.")}
        )
    if len(types) > MAX_EVENT_TYPES:
        raise EndpointInvalid(
            {"event_types": gettext("At most %(max)d event types.") % {"max": MAX_EVENT_TYPES}}
        )
    known = known_event_types()
    for pattern in types:
        if pattern == ALL_EVENTS:
            continue
        well_formed = len(pattern) <= EVENT_TYPE_MAX and _PATTERN.match(pattern)
        if well_formed and pattern.endswith(".*"):
            prefix = pattern[:-1]
            exists = any(name.startswith(prefix) for name in known)
        else:
            exists = pattern in known
        if not (well_formed and exists):
            raise EndpointInvalid(
                {
                    "event_types": gettext(
                        "Unknown event type: %(pattern)s. Use a known type (such as "
                        "commerce.order.placed), a prefix (commerce.*) or *."
                    )
                    % {"pattern": pattern[:EVENT_TYPE_MAX]}
                }
            )
    return list(dict.fromkeys(types))


def _clean_url(url: Any) -> str:
    url = str(url or "").strip()
    if not url:
        raise EndpointInvalid({"url": gettext("Give the URL that receives the events.")})
    if len(url) > URL_MAX:
        raise EndpointInvalid({"url": gettext("The URL is too long.")})
    addresses.target(url)  # UnsafeUrl when it leads anywhere but a public address
    return url


def _clean_description(description: Any) -> str:
    description = str(description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise EndpointInvalid(
            {"description": gettext("At most %(max)d characters.") % {"max": DESCRIPTION_MAX}}
        )
    return description


def endpoint_clean(*, url: Any, event_types: Any, description: Any = "") -> dict[str, Any]:
    """The cleaned fields of an endpoint, else ``EndpointInvalid`` or ``UnsafeUrl``."""
    return {
        "url": _clean_url(url),
        "event_types": _clean_event_types(event_types),
        "description": _clean_description(description),
    }


def endpoint_create(
    *, url: str, event_types: list[str], description: str = "", is_active: bool = True
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (``whsec_...``), which the caller shows once.

    :param url: https URL of a public address (see ``addresses``).
    :param event_types: exact types, prefixes (``commerce.*``) or ``*``.
    """
    fields = endpoint_clean(url=url, event_types=event_types, description=description)
    secret = signing.secret_new()
    with transaction.atomic():
        _forget_active_endpoints()
        endpoint = WebhookEndpoint.objects.create(
            **fields, secret=secret, is_active=bool(is_active)
        )
    return endpoint, secret


def _locked(endpoint_id) -> WebhookEndpoint:
    """The endpoint, locked for a change (every change of an endpoint starts here)."""
    _forget_active_endpoints()
    try:
        return WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError):
        raise EndpointNotFound(gettext("There is no such webhook endpoint.")) from None


def _enable(endpoint: WebhookEndpoint) -> None:
    endpoint.is_active = True
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None
    endpoint.consecutive_failures = 0
    endpoint.failing_since = None


def endpoint_update(
    *,
    endpoint_id: int,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change the given fields; activating a disabled endpoint clears why it was disabled."""
    cleaned: dict[str, Any] = {}
    if url is not None:
        cleaned["url"] = _clean_url(url)
    if event_types is not None:
        cleaned["event_types"] = _clean_event_types(event_types)
    if description is not None:
        cleaned["description"] = _clean_description(description)
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        for name, value in cleaned.items():
            setattr(endpoint, name, value)
        if is_active is True and not endpoint.is_active:
            _enable(endpoint)
        elif is_active is False:
            endpoint.is_active = False
        endpoint.save()
    return endpoint


def endpoint_enable(*, endpoint_id: int) -> WebhookEndpoint:
    """Turn a disabled endpoint back on with a fresh breaker (the administrators' action)."""
    return endpoint_update(endpoint_id=endpoint_id, is_active=True)


def endpoint_delete(*, endpoint_id: int) -> None:
    with transaction.atomic():
        _locked(endpoint_id).delete()


def endpoint_rotate_secret(*, endpoint_id: int) -> tuple[WebhookEndpoint, str]:
    """A new secret for the endpoint, shown once. The old one signs as well for
    ``WEBHOOKS["ROTATION_OVERLAP_SECONDS"]``, so the receiver can switch without losing
    a delivery."""
    secret = signing.secret_new()
    overlap = timedelta(seconds=settings.WEBHOOKS["ROTATION_OVERLAP_SECONDS"])
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = timezone.now() + overlap
        endpoint.secret = secret
        endpoint.save(
            update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"]
        )
    return endpoint, secret


def _signing_secrets(endpoint: WebhookEndpoint, now) -> list[str]:
    secrets = [endpoint.secret]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    """Disable ``endpoint`` (locked, in a transaction) and tell the administrators on commit."""
    endpoint.is_active = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = timezone.now()
    endpoint.save()
    recipients = administrator_emails()
    subject = gettext("Webhook endpoint disabled: %(name)s") % {"name": str(endpoint)}
    body = gettext(
        "The webhook endpoint %(name)s (%(url)s) was disabled and receives no events until "
        "an administrator enables it again in the admin.\n\nWhy: %(reason)s"
    ) % {"name": str(endpoint), "url": endpoint.url, "reason": reason}
    if recipients:
        transaction.on_commit(lambda: _mail(subject, body, recipients), robust=True)
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)


def _mail(subject: str, body: str, recipients: list[str]) -> None:
    try:
        send_mail(subject, body, None, recipients)
    except Exception:
        logger.exception("could not tell the administrators that an endpoint was disabled")


# -- deliveries ----------------------------------------------------------------------------


def envelope(event: StoredEvent) -> dict[str, Any]:
    """What a receiver gets: the event as the event feed shows it."""
    return {
        "id": str(event.event_id),
        "type": event.event_type,
        "version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "aggregate": {
            "type": event.aggregate_type,
            "id": event.aggregate_id,
            "version": event.aggregate_version,
        },
        "payload": event.payload,
    }


def patterns_for(event_type: str) -> list[str]:
    """Every pattern that selects ``event_type``: ``*``, each prefix with ``.*``, itself."""
    parts = event_type.split(".")
    return [ALL_EVENTS, *(".".join(parts[:n]) + ".*" for n in range(1, len(parts))), event_type]


# The beat jobs of webhooks, by their names in the due-work index. The sweep is due when a
# pending delivery's next attempt is overdue by the grace: marked where a delivery becomes
# pending or its next attempt comes sooner (a new one, a retry, a deferral, a redelivery),
# not where a worker's claim only moves it later. The prune is due when a finished
# delivery passes the retention: marked where one finishes.
SWEEP_JOB = due_work_kind("webhooks.sweep")
PRUNE_JOB = due_work_kind("webhooks.prune")


def _mark_sweep(next_attempt_at) -> None:
    work_due(
        kind=SWEEP_JOB,
        at=next_attempt_at + timedelta(seconds=settings.WEBHOOKS["SWEEP_GRACE_SECONDS"]),
    )


def retention() -> timedelta:
    return timedelta(days=settings.WEBHOOKS["RETENTION_DAYS"])


# One row per (endpoint, event) pair given, in the order given (events in position order, each
# event's endpoints by id).
CREATE_DELIVERIES_SQL = f"""
INSERT INTO {WebhookDelivery._meta.db_table}
    (endpoint_id, event_id, event_type, payload, status, attempts, attempts_before_redelivery,
     next_attempt_at, last_error, created_at)
SELECT d.endpoint_id, d.event_id, d.event_type, d.payload, 'pending', 0, 0, now(), '', now()
FROM unnest(
    %(endpoint_ids)s::bigint[], %(event_ids)s::uuid[], %(event_types)s::text[],
    %(payloads)s::jsonb[]
) WITH ORDINALITY AS d(endpoint_id, event_id, event_type, payload, n)
ORDER BY d.n
ON CONFLICT (endpoint_id, event_id) DO NOTHING
RETURNING id, next_attempt_at
"""  # noqa: S608 (constant table names)

ACTIVE_ENDPOINTS_SQL = f"""
SELECT id, event_types FROM {WebhookEndpoint._meta.db_table} WHERE is_active
"""  # noqa: S608 (a constant table name)


# The active endpoints as read in the current transaction: (the transaction, the schema, the
# rows). The relay runs a tenant's events of a batch in one transaction, so they cost one read
# together, not one each; an endpoint written on this connection forgets it.
_ACTIVE_MEMO = "_webhooks_active_endpoints"


def _transaction_mark() -> tuple | None:
    """What tells this transaction from any other on the connection (None outside one): its
    outermost atomic block, and Django's list of on-commit callbacks, which Django replaces
    when a transaction ends and when a savepoint is rolled back. The block alone is not enough:
    a function decorated with ``transaction.atomic`` enters the same block object each call."""
    if not connection.atomic_blocks:
        return None
    return (connection.atomic_blocks[0], connection.run_on_commit)


def _same(mark: tuple | None, other: tuple | None) -> bool:
    return mark is not None and other is not None and all(map(operator.is_, mark, other))


def _forget_active_endpoints() -> None:
    setattr(connection, _ACTIVE_MEMO, None)


def _active_endpoints(cursor) -> list[tuple[int, list[str]]]:
    mark = _transaction_mark()
    memo = getattr(connection, _ACTIVE_MEMO, None)
    # The objects themselves are kept (not their ids): a later transaction's cannot match them.
    if memo and _same(memo[0], mark) and memo[1] == connection.schema_name:
        return memo[2]
    cursor.execute(ACTIVE_ENDPOINTS_SQL)
    active = cursor.fetchall()
    setattr(connection, _ACTIVE_MEMO, (mark, connection.schema_name, active) if mark else None)
    return active


# The transaction (and schema) in which new deliveries were last marked for the sweep: while
# it is open and no savepoint of it was rolled back, nothing has undone the mark, and a relay
# batch of many events marks once, with the earliest time. A savepoint rolled back replaces
# the transaction's mark: the next delivery marks again.
_SWEEP_MARK_MEMO = "_webhooks_sweep_marked"


def _mark_sweep_once_per_transaction(next_attempt_at: datetime) -> None:
    mark = _transaction_mark()
    memo = getattr(connection, _SWEEP_MARK_MEMO, None)
    if memo and _same(memo[0], mark) and memo[1] == connection.schema_name:
        return
    _mark_sweep(next_attempt_at)
    setattr(connection, _SWEEP_MARK_MEMO, (mark, connection.schema_name) if mark else None)


def deliveries_create_for_event(event: StoredEvent) -> list[int]:
    """One pending delivery per active endpoint that wants ``event``, sent after the commit
    (``deliveries_create_for_events`` for one event)."""
    return deliveries_create_for_events([event])


def deliveries_create_for_events(events: list[StoredEvent]) -> list[int]:
    """One pending delivery per event of ``events`` (the active tenant's, in position order)
    and active endpoint that wants it, sent after the commit; the new deliveries' ids.

    Runs in the caller's transaction (the relay's, with its ledger rows). A tenant without
    active endpoints pays one small read per transaction (``_active_endpoints``); envelopes
    are built only for the endpoints that want an event, and every delivery of the events is
    written with one statement.
    """
    with connection.cursor() as cursor:
        active = _active_endpoints(cursor)
        if not active:
            return []
        pairs = []
        for event in events:
            patterns = set(patterns_for(event.event_type))
            wanted = [pk for pk, types in active if patterns.intersection(types)]
            if wanted:
                payload = json.dumps(envelope(event))
                pairs += [(pk, event, payload) for pk in sorted(wanted)]
        if not pairs:
            return []
        cursor.execute(
            CREATE_DELIVERIES_SQL,
            {
                "endpoint_ids": [pk for pk, _, _ in pairs],
                "event_ids": [event.event_id for _, event, _ in pairs],
                "event_types": [event.event_type for _, event, _ in pairs],
                "payloads": [payload for _, _, payload in pairs],
            },
        )
        rows = cursor.fetchall()
    created = [row[0] for row in rows]
    if created:
        _mark_sweep_once_per_transaction(min(row[1] for row in rows))
        slug = _tenant_slug()
        transaction.on_commit(lambda: _enqueue(slug, created))
    return created


def _tenant_slug() -> str:
    """The active tenant's slug (the relay's schema switch knows only the schema, whose name
    ``tenancy.identifiers.schema_name_for`` derives one-to-one from the slug)."""
    return getattr(connection.tenant, "slug", None) or connection.schema_name.replace("_", "-")


def deliveries_enqueue(*, delivery_ids: list[int]) -> None:
    """Hand these deliveries of the active tenant to the webhook workers (the sweep)."""
    _enqueue(_tenant_slug(), delivery_ids)


def _enqueue(slug: str, delivery_ids: list[int], countdown: float = 0) -> None:
    """Ask the webhook workers to send; if the broker is away, the sweep sends later."""
    from .tasks import deliver

    for delivery_id in delivery_ids:
        guarded(
            BROKER, deliver.apply_async, kwargs={"delivery_id": delivery_id, "tenant": slug},
            countdown=countdown, retry=False, fallback=None,
        )  # fmt: skip


def deliveries_prune(*, older_than_days: int | None = None, now: datetime | None = None) -> int:
    """Delete finished deliveries (and their attempts) made more than the retention ago;
    how many deliveries went. Pending ones stay: they are still being tried."""
    days = settings.WEBHOOKS["RETENTION_DAYS"] if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        old = WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(
            status=DeliveryStatus.PENDING
        )
        WebhookAttempt.objects.filter(delivery__in=old).delete()
        deleted, _ = old.delete()
    return deleted


def delivery_redeliver(*, delivery_id: int) -> WebhookDelivery:
    """Send a past delivery again (a new attempt, the same ``webhook-id``), with fresh retries."""
    with transaction.atomic():
        try:
            delivery = (
                WebhookDelivery.objects.select_for_update(of=("self",))
                .select_related("endpoint")
                .get(pk=delivery_id)
            )
        except (WebhookDelivery.DoesNotExist, ValueError, TypeError):
            raise DeliveryNotFound(gettext("There is no such webhook delivery.")) from None
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.attempts_before_redelivery = delivery.attempts
        delivery.save(update_fields=["status", "next_attempt_at", "attempts_before_redelivery"])
        _mark_sweep(delivery.next_attempt_at)
        slug = _tenant_slug()
        transaction.on_commit(lambda: _enqueue(slug, [delivery.pk]))
    return delivery


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery for one attempt: its next attempt moves past the lease."""
    lease = timedelta(seconds=settings.WEBHOOKS["LEASE_SECONDS"])
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(
                pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
            )
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = timezone.now() + lease
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def _body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def delivery_attempt(*, delivery_id: int) -> sender.Outcome | None:
    """Make the next attempt of a due delivery; None when it is not due (or taken).

    2xx: delivered. 410 Gone: the receiver wants no more; the endpoint is disabled. Any
    other answer, a timeout or a refused address: retried on the schedule
    (``WEBHOOKS["RETRY_SCHEDULE_SECONDS"]``, with jitter), then failed.
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    started = timezone.now()
    if not endpoint.is_active:
        outcome = sender.Outcome(None, 0, error=gettext("The endpoint is disabled."))
    else:
        try:
            target = addresses.target(endpoint.url)
        except UnsafeUrl as refused:
            outcome = sender.Outcome(None, 0, error=str(refused.detail))
        else:
            with _sending_slot(endpoint) as free:
                if not free:
                    _defer(delivery)
                    return None
                body = _body(delivery)
                timestamp = int(started.timestamp())
                headers = signing.headers(
                    _signing_secrets(endpoint, started), message_id=delivery.message_id,
                    timestamp=timestamp, body=body,
                )  # fmt: skip
                outcome = sender.post(target, body=body, headers=headers)
    _record(delivery, started, outcome)
    _report_guard(endpoint, outcome)
    return outcome


def _send_seconds() -> float:
    """The longest one send can take: its connect and read timeouts."""
    return settings.WEBHOOKS["CONNECT_TIMEOUT_SECONDS"] + settings.WEBHOOKS["READ_TIMEOUT_SECONDS"]


@contextlib.contextmanager
def _sending_slot(endpoint: WebhookEndpoint) -> Iterator[bool]:
    """Whether this send may go ahead. An endpoint whose last attempts failed (a receiver that
    answers errors or hangs) sends through ``WEBHOOKS["FAILING_ENDPOINT_CONCURRENCY"]`` slots
    at most, across all workers, so that it never holds every worker and other endpoints'
    deliveries go on; a healthy one sends freely. Kept in Redis; with Redis away, no limit."""
    config = settings.WEBHOOKS
    if not endpoint.consecutive_failures:
        yield True
        return
    ttl = _send_seconds() + 5
    prefix = f"webhooks:sending:{connection.schema_name}:{endpoint.pk}"
    held = None
    for number in range(config["FAILING_ENDPOINT_CONCURRENCY"]):
        lock = kv.client().lock(f"{prefix}:{number}", timeout=ttl, blocking=False)
        taken = guarded(REDIS, lock.acquire, fallback=None)
        if taken is None:  # Redis is away: send without a slot
            yield True
            return
        if taken:
            held = lock
            break
    try:
        yield held is not None
    finally:
        if held is not None:
            guarded(REDIS, held.release, fallback=None)


def _defer(claimed: WebhookDelivery) -> None:
    """Give a delivery whose failing endpoint has no free slot back, untried, until a send
    that holds a slot has surely ended (its timeouts): trying again sooner would only fill
    the queue in front of other endpoints' deliveries."""
    delay = _send_seconds()
    next_attempt_at = timezone.now() + timedelta(seconds=delay)
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=claimed.pk).update(
            attempts=F("attempts") - 1, next_attempt_at=next_attempt_at
        )
        _mark_sweep(next_attempt_at)
        slug = _tenant_slug()
        transaction.on_commit(lambda: _enqueue(slug, [claimed.pk], countdown=delay))


# Readiness shows webhook delivery degraded while any endpoint's receiver fails: each failing
# endpoint is reported as an open guard, shared with every process, for a while.
GUARD_PREFIX = "webhooks:"
GUARD_SECONDS = 300


def _report_guard(endpoint: WebhookEndpoint, outcome: sender.Outcome) -> None:
    name = f"{GUARD_PREFIX}{connection.schema_name}:{endpoint.pk}"
    if not outcome.succeeded:
        report(name, opened=True, until=time.time() + GUARD_SECONDS)
    elif endpoint.consecutive_failures:
        report(name, opened=False)


def _record(claimed: WebhookDelivery, started, outcome: sender.Outcome) -> None:
    config = settings.WEBHOOKS
    delivery_id, number = claimed.pk, claimed.attempts
    retry_in: float | None = None
    result = "delivered"
    with transaction.atomic():
        # The endpoint first, then the delivery: the order every writer of both takes.
        endpoint = (
            WebhookEndpoint.objects.select_for_update().filter(pk=claimed.endpoint_id).first()
        )
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if endpoint is None or delivery is None:
            return  # deleted while the request ran: nothing left to record
        WebhookAttempt.objects.create(
            delivery=delivery, number=number, started_at=started,
            status_code=outcome.status_code, latency_ms=outcome.latency_ms,
            response_excerpt=outcome.excerpt, error=outcome.error, succeeded=outcome.succeeded,
        )  # fmt: skip
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.succeeded:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
            if endpoint.consecutive_failures or endpoint.failing_since:
                endpoint.consecutive_failures, endpoint.failing_since = 0, None
                endpoint.save(update_fields=["consecutive_failures", "failing_since"])
        else:
            gone = outcome.status_code == 410
            decision = retry_policy().decide(
                RetryableFailure(outcome.error), number - delivery.attempts_before_redelivery
            )
            if gone or not endpoint.is_active or decision.action is not Action.RETRY:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
                result = "dead" if decision.action is not Action.RETRY else "failed"
            else:
                result = "retry"
                retry_in = decision.delay
                delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
            if endpoint.is_active:
                endpoint.consecutive_failures += 1
                endpoint.failing_since = endpoint.failing_since or started
                endpoint.save(update_fields=["consecutive_failures", "failing_since"])
                reason = _breaker_reason(endpoint, gone=gone, config=config)
                if reason:
                    _disable(endpoint, reason)
                    retry_in = None
                    result = "failed"
        delivery.save(
            update_fields=[
                "status", "next_attempt_at", "last_status_code", "last_error", "delivered_at",
            ]
        )  # fmt: skip
        if delivery.next_attempt_at is not None:
            _mark_sweep(delivery.next_attempt_at)
        else:
            work_due(kind=PRUNE_JOB, at=delivery.created_at + retention())
        if retry_in is not None and retry_in <= config["COUNTDOWN_MAX_SECONDS"]:
            slug = _tenant_slug()
            transaction.on_commit(lambda: _enqueue(slug, [delivery_id], countdown=retry_in))
    metrics.DELIVERIES.labels(result).inc()


def _breaker_reason(endpoint: WebhookEndpoint, *, gone: bool, config) -> str:
    if gone:
        return gettext("The receiver answered 410 Gone: it wants no more events.")
    if endpoint.consecutive_failures >= config["BREAKER_FAILURES"]:
        return gettext("%(count)d attempts in a row failed.") % {
            "count": endpoint.consecutive_failures
        }
    failing_for = timezone.now() - endpoint.failing_since
    if failing_for >= timedelta(seconds=config["BREAKER_FAILING_SECONDS"]):
        return gettext("Every attempt has failed for %(hours)d hours.") % {
            "hours": failing_for.total_seconds() // 3600
        }
    return ""
