"""Helpers of the product listing tests: a catalogue made through commerce's services."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection

from apps.commerce import services as commerce
from apps.commerce.services import ProductInput, VariantInput
from apps.tenancy.models import Tenant
from tests.index.support import forget_tenants, project, wipe_tables

COMMERCE_TABLES = (
    "commerce_product, commerce_collection, commerce_category, commerce_location, "
    "commerce_storesettings"
)
_numbers = itertools.count(1)


def shop(currencies=("USD", "EUR", "JPY")) -> None:
    """The active tenant sells in ``currencies`` (the first is the default)."""
    commerce.store_settings_update(
        default_currency=currencies[0], enabled_currencies=list(currencies)
    )


def product(
    title: str,
    *,
    prices: dict[str, str] | None = None,
    variants: int = 1,
    options: dict[str, list[str]] | None = None,
    activate: bool = True,
    **fields,
):
    """An active product with ``variants`` variants priced ``prices``, the n-th n units dearer.

    Variant n takes the n-th value of the first option and the first of the others; with
    several variants and no options, a "Size" option gives them values.
    """
    number = next(_numbers)
    options = dict(options or {})
    if variants > 1 and not options:
        options = {"Size": [f"S{index}" for index in range(variants)]}
    made = commerce.product_create(
        data=ProductInput(title=title, handle=f"product-{number}", **fields)
    )
    for name, values in options.items():
        commerce.option_create(product_id=made.pk, name=name, values=values)
    for index in range(variants):
        chosen = {name: values[index if position == 0 else 0] for position, (name, values)
                  in enumerate(options.items())}  # fmt: skip
        variant = commerce.variant_create(
            product_id=made.pk, data=VariantInput(sku=f"S-{number}-{index}", options=chosen)
        )
        for currency, amount in (prices or {"USD": "10.00"}).items():
            commerce.price_set(
                variant_id=variant.pk, currency=currency, amount=Decimal(amount) + index
            )
    if activate:
        commerce.product_transition(product_id=made.pk, action="activate")
    made.refresh_from_db()
    return made


def first_variant(made):
    return made.variants.order_by("sku").first()


def project_products(schema: str = "acme") -> None:
    """Run the product listing projection over the outbox rows of ``schema`` (for ``db`` tests),
    in position order, as the relay would."""
    project(schema, "product_listing")


def wipe_commerce() -> None:
    wipe_tables(f"{COMMERCE_TABLES}, index_product_listing")


@contextmanager
def committed_shop(
    django_db_blocker, locales: dict[str, list[str]] | None = None
) -> Iterator[None]:
    """Commerce data built once for a whole test module and committed (each test then runs in
    its own transaction on top of it): wiped, and the tenants' locales restored, at the end.

    ``locales`` maps a tenant's slug to the locales it serves meanwhile.
    """
    with django_db_blocker.unblock():
        saved = list(
            Tenant.objects.filter(slug__in=["acme", "globex"]).values(
                "pk", "enabled_locales", "default_locale"
            )
        )
        wipe_commerce()
        for slug, enabled in (locales or {}).items():
            Tenant.objects.filter(slug=slug).update(enabled_locales=enabled)
        forget_tenants()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            connection.set_schema_to_public()
            wipe_commerce()
            for values in saved:
                Tenant.objects.filter(pk=values.pop("pk")).update(**values)
            forget_tenants()
