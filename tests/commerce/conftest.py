"""Fixtures of the commerce tests: acme's schema with two locales and four currencies."""

from __future__ import annotations

import itertools

import pytest
from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import Location, Product, Variant
from apps.commerce.services import ProductInput, VariantInput
from apps.events.models import OutboxEvent
from apps.tenancy.models import Tenant

from .smtp import SmtpSink

CURRENCIES = ["USD", "EUR", "JPY", "BHD"]
_sku_numbers = itertools.count(1)


@pytest.fixture
def acme_db(acme):
    """acme's schema, in English and German, selling in USD (default), EUR, JPY and BHD."""
    Tenant.objects.filter(pk=acme.pk).update(enabled_locales=["en", "de"])
    with schema_context("acme"):
        services.store_settings_update(default_currency="USD", enabled_currencies=CURRENCIES)
        yield acme


def make_product(title: str = "Linen shirt", **fields) -> Product:
    return services.product_create(data=ProductInput(title=title, **fields))


def make_variant(product: Product, sku: str | None = None, **fields) -> Variant:
    sku = sku or f"SKU-{next(_sku_numbers)}"
    return services.variant_create(product_id=product.pk, data=VariantInput(sku=sku, **fields))


def priced_product(title: str = "Linen shirt", amount: str = "10.00") -> tuple[Product, Variant]:
    """A draft product with one variant priced in the default currency."""
    product = make_product(title)
    variant = make_variant(product)
    services.price_set(variant_id=variant.pk, currency="USD", amount=amount)
    product.refresh_from_db()
    return product, variant


def make_location(code: str = "main", name: str = "Main warehouse", **fields) -> Location:
    return services.location_create(code=code, name=name, **fields)


def events_of(aggregate_id, event_type: str | None = None) -> list[OutboxEvent]:
    rows = OutboxEvent.objects.filter(aggregate_id=str(aggregate_id)).order_by("position")
    if event_type:
        rows = rows.filter(event_type=event_type)
    return list(rows)


def event_types(aggregate_id) -> list[str]:
    return [row.event_type for row in events_of(aggregate_id)]


def outbox_head() -> int:
    return OutboxEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0


@pytest.fixture
def smtp_server(settings):
    """A local SMTP server (``tests.commerce.smtp.SmtpSink``) that Django's SMTP backend sends
    to, instead of the test run's in-memory outbox."""
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    yield sink
    sink.stop()
