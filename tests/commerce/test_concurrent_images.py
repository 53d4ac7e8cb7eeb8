"""Image writes racing on one product: positions stay 0..n-1, each once, and every version
is used by exactly one event (never a deadlock or an integrity error)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context
from PIL import Image

from apps.commerce import selectors, services
from apps.commerce.models import Product
from apps.commerce.services import ProductInput
from apps.events.models import OutboxEvent

from .concurrency import race

ADDERS = 5


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "olive").save(buffer, "PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue(), "image/png")


@pytest.fixture
def cleanup(live_db, media_root):
    yield
    with schema_context("acme"):
        Product.objects.all().delete()
    connection.set_schema_to_public()


def test_concurrent_adds_and_a_delete_keep_the_positions_whole(cleanup):
    with schema_context("acme"):
        product = services.product_create(data=ProductInput(title="Raced tent"))
        first = services.product_image_add(product_id=product.pk, file=_png())
    contenders = [
        lambda: services.product_image_add(product_id=product.pk, file=_png()).pk
        for _ in range(ADDERS)
    ]
    contenders.append(lambda: services.product_image_delete(image_id=first.pk))
    outcomes = race(contenders)
    assert all(outcome[0] == "ok" for outcome in outcomes), outcomes
    with schema_context("acme"):
        images = list(selectors.product_images(product.pk))
        product.refresh_from_db()
        versions = list(
            OutboxEvent.objects.filter(aggregate_id=str(product.pk))
            .order_by("aggregate_version")
            .values_list("aggregate_version", flat=True)
        )
    assert [image.position for image in images] == list(range(ADDERS))
    assert {image.pk for image in images} == {outcome[1] for outcome in outcomes[:ADDERS]}
    # created, the first image, then one version per contender: none lost, none shared.
    assert versions == list(range(1, ADDERS + 4)) and product.version == ADDERS + 3
