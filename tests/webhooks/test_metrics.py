"""webhook_deliveries_total: one count per attempt, by what came of it."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.webhooks import selectors
from tests.metrics.support import increase, scrape

from .conftest import endpoint_in, publish_widget, relay
from .test_deliveries import attempt, make_due, reload

pytestmark = pytest.mark.usefixtures("committed")


def outcomes(before, after) -> dict[str, float]:
    names = ("delivered", "retry", "dead", "failed")
    return {
        name: increase(before, after, "webhook_deliveries_total", outcome=name) for name in names
    }


def the_delivery():
    with schema_context("acme"):
        (delivery,) = selectors.deliveries()
    return delivery


def two_attempts(receiver) -> tuple[str, dict[str, float]]:
    """One event to acme's endpoint at ``receiver``, attempted, then again once due: the
    delivery's status and the outcomes counted meanwhile."""
    endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    delivery = the_delivery()
    before = scrape()
    attempt(delivery)
    make_due(delivery)
    attempt(delivery)
    return reload(delivery).status, outcomes(before, scrape())


def test_a_retried_then_delivered_webhook(receiver):
    receiver.answers = [500]
    status, counted = two_attempts(receiver)
    assert status == "delivered"
    assert counted == {"delivered": 1, "retry": 1, "dead": 0, "failed": 0}


def test_a_webhook_given_up_after_the_schedule_is_dead(receiver, settings):
    settings.WEBHOOKS = {
        **settings.WEBHOOKS, "RETRY_SCHEDULE_SECONDS": (5,), "BREAKER_FAILURES": 100,
    }  # fmt: skip
    receiver.answers = [500, 500]
    status, counted = two_attempts(receiver)
    assert status == "failed"
    assert counted == {"delivered": 0, "retry": 1, "dead": 1, "failed": 0}


def test_410_gone_counts_as_failed(receiver):
    receiver.answers = [410]
    endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    before = scrape()

    attempt(the_delivery())

    assert outcomes(before, scrape()) == {"delivered": 0, "retry": 0, "dead": 0, "failed": 1}
