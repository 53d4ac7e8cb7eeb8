"""What a single row can guarantee, the database guarantees: writes that bypass the services
still cannot store a broken catalog or stock level."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.commerce import services
from apps.commerce.models import (
    Category,
    Price,
    ProductOption,
    Reservation,
    StockAdjustment,
    StockLevel,
    StoreSettings,
)

from .conftest import make_location, make_product, make_variant


def _refused(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_price_rows(acme_db):
    variant = make_variant(make_product())
    services.price_set(variant_id=variant.pk, currency="USD", amount="5")
    _refused(lambda: Price.objects.create(variant=variant, currency="USD", amount=1))
    _refused(lambda: Price.objects.create(variant=variant, currency="EUR", amount=-1))
    _refused(lambda: Price.objects.create(variant=variant, currency="eur", amount=1))
    _refused(
        lambda: Price.objects.create(variant=variant, currency="EUR", amount=5, compare_at_amount=5)
    )


def test_stock_rows(acme_db):
    variant = make_variant(make_product())
    location = make_location()
    services.stock_adjust(
        variant_id=variant.pk, location_id=location.pk, delta=1, reason="received"
    )
    _refused(lambda: StockLevel.objects.filter(variant=variant).update(reserved=-1))
    _refused(lambda: StockLevel.objects.create(variant=variant, location=location))
    _refused(
        lambda: StockAdjustment.objects.create(
            variant=variant, location=location, delta=0, reason="correction", on_hand_after=1
        )
    )
    _refused(
        lambda: Reservation.objects.create(
            variant=variant, location=location, quantity=0, reference="r",
            expires_at="2100-01-01T00:00:00Z",
        )
    )  # fmt: skip


def test_option_rows(acme_db):
    product = make_product()
    for name in ("A", "B", "C"):
        services.option_create(product_id=product.pk, name=name, values=["x"])
    _refused(lambda: ProductOption.objects.create(product=product, name="D", position=3))
    _refused(
        lambda: ProductOption.objects.create(product=make_product("Other"), name="A", position=7)
    )


def test_tree_and_settings_rows(acme_db):
    category = services.category_create(name="Loop")
    _refused(lambda: Category.objects.filter(pk=category.pk).update(parent=category.pk))
    _refused(lambda: StoreSettings.objects.create(pk=2, default_currency="USD"))
    _refused(lambda: StoreSettings.objects.filter(pk=1).update(default_currency="usd"))


def test_a_price_shows_its_currency_decimals(acme_db):
    variant = make_variant(make_product())
    services.price_set(
        variant_id=variant.pk, currency="JPY", amount="1500", compare_at_amount="2000"
    )
    services.price_set(variant_id=variant.pk, currency="BHD", amount="1.5")
    jpy, bhd = (Price.objects.get(variant=variant, currency=code) for code in ("JPY", "BHD"))
    assert jpy.amount == Decimal("1500.0000")  # the column keeps four places
    assert (str(jpy.money), str(jpy.compare_at_money), str(bhd)) == (
        "1500 JPY", "2000 JPY", "1.500 BHD",
    )  # fmt: skip
    assert bhd.compare_at_money is None
