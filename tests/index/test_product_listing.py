"""The product listing on committed data, fed by the relay: each kind of event, replays,
rebuilds and the consistency check, against an independent oracle."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.commerce import services as commerce
from apps.commerce.services import ProductInput, ReservationLine, VariantInput
from apps.events import relay, services
from apps.events.envelope import StoredEvent
from apps.events.ledger.models import ProcessedEvent
from apps.events.models import OutboxEvent
from apps.index.consistency import check_product_listing
from apps.index.models import ProductListing
from apps.index.projections import projections
from apps.tenancy import services as tenancy
from apps.tenancy.models import Tenant
from apps.tenancy.resolver import tenant_cache
from tests.index.oracle import assert_products_match_oracle
from tests.index.shop import first_variant, product, shop, wipe_commerce
from tests.index.support import queries_of_one_batch, serve_locales
from tests.pages.support import png_upload

HANDLER = "projection.product_listing"


@pytest.fixture
def committed_shop(live_db):
    """acme in English and German, selling in USD, EUR and JPY; no catalogue before or after."""
    saved = list(
        Tenant.objects.filter(slug__in=["acme", "globex"]).values(
            "pk", "enabled_locales", "default_locale"
        )
    )
    wipe_commerce()
    serve_locales("acme", ["de"])
    for schema in ("acme", "globex"):
        with schema_context(schema):
            shop()
    yield
    connection.set_schema_to_public()
    wipe_commerce()
    for values in saved:
        Tenant.objects.filter(pk=values.pop("pk")).update(**values)
    tenant_cache.clear_local()


def _rows(**filters) -> dict[str, ProductListing]:
    with schema_context("acme"):
        return {row.locale: row for row in ProductListing.objects.filter(**filters)}


def _drained() -> None:
    stats = relay.drain()
    assert stats.failed == 0


def test_the_handler_follows_every_kind_of_event(committed_shop):
    with schema_context("acme"):
        made = commerce.product_create(data=ProductInput(title="Linen shirt", vendor="Acme"))
        variant = commerce.variant_create(product_id=made.pk, data=VariantInput(sku="LIN-1"))
        commerce.price_set(variant_id=variant.pk, currency="USD", amount="20")
    _drained()
    assert _rows() == {}  # a draft is not listed

    with schema_context("acme"):
        commerce.product_transition(product_id=made.pk, action="activate")
    _drained()
    rows = _rows(product_id=made.pk)
    assert sorted(rows) == ["de", "en"]
    assert (rows["de"].title, rows["de"].content_locale) == ("Linen shirt", "en")
    assert (rows["en"].price_min, rows["en"].in_stock, rows["en"].variant_count) == (
        {"USD": "20.00"}, False, 1,
    )  # fmt: skip

    with schema_context("acme"):
        commerce.product_update(product_id=made.pk, translations={"de": {"title": "Leinenhemd"}})
        commerce.option_create(product_id=made.pk, name="Size", values=["M", "L"])
        large = commerce.variant_create(
            product_id=made.pk, data=VariantInput(sku="LIN-2", options={"Size": "L"})
        )
        commerce.price_set(variant_id=large.pk, currency="USD", amount="25")
        commerce.price_set(variant_id=large.pk, currency="EUR", amount="23", compare_at_amount="30")
    _drained()
    rows = _rows(product_id=made.pk)
    assert (rows["de"].title, rows["de"].content_locale, rows["en"].title) == (
        "Leinenhemd", "de", "Linen shirt",
    )  # fmt: skip
    assert rows["en"].option_names == ["Size"]
    assert rows["en"].option_values == ["Size:M", "Size:L"]
    assert rows["en"].price_min == {"EUR": "23.00", "USD": "20.00"}
    assert rows["en"].price_max == {"EUR": "23.00", "USD": "25.00"}
    assert (rows["en"].on_sale, rows["en"].variant_count) == (True, 2)

    with schema_context("acme"):
        location = commerce.location_create(code="main", name="Main")
        commerce.stock_adjust(
            variant_id=variant.pk, location_id=location.pk, delta=5, reason="received"
        )
    _drained()
    assert (_rows()["en"].in_stock, _rows()["en"].total_available) == (True, 5)

    with schema_context("acme"):
        (held,) = commerce.stock_reserve(
            lines=[ReservationLine(variant_id=variant.pk, location_id=location.pk, quantity=5)],
            reference="checkout-1",
        )
    _drained()
    assert (_rows()["en"].in_stock, _rows()["en"].total_available) == (False, 0)

    with schema_context("acme"):
        commerce.reservation_release(reservation_id=held.pk)
    _drained()
    assert _rows()["de"].total_available == 5

    with schema_context("acme"):
        commerce.stock_reserve(
            lines=[ReservationLine(variant_id=variant.pk, location_id=location.pk, quantity=2)],
            reference="checkout-2",
        )
        (sale,) = commerce.reservations_convert(reference="checkout-2")
    _drained()
    assert (sale.on_hand_after, _rows()["en"].total_available) == (3, 3)
    sold = OutboxEvent.objects.get(
        event_type="commerce.inventory.sold", aggregate_id=str(variant.pk)
    )
    with schema_context("acme"):
        assert ProcessedEvent.objects.filter(
            handlers__contains=[HANDLER], event_id=sold.event_id
        ).exists()

    with schema_context("acme"):
        summer = commerce.collection_create(title="Summer", product_ids=[made.pk])
        shirts = commerce.category_create(name="Shirts")
        commerce.product_update(product_id=made.pk, fields={"category_ids": [shirts.pk]})
    _drained()
    row = _rows()["en"]
    assert (row.collection_handles, row.collection_ids) == (["summer"], [summer.pk])
    assert (row.category_handles, row.category_ids) == (["shirts"], [shirts.pk])

    with schema_context("acme"):
        commerce.collection_update(collection_id=summer.pk, handle="summer-sale")
        commerce.category_update(category_id=shirts.pk, handle="tops")
    _drained()
    assert (_rows()["de"].collection_handles, _rows()["de"].category_handles) == (
        ["summer-sale"], ["tops"],
    )  # fmt: skip
    assert_products_match_oracle("acme", rows=2)

    with schema_context("acme"):
        commerce.collection_set_products(collection_id=summer.pk, product_ids=[])
        commerce.category_delete(category_id=shirts.pk)
        commerce.price_delete(variant_id=large.pk, currency="EUR")
        commerce.variant_delete(variant_id=large.pk)
    _drained()
    row = _rows()["en"]
    assert (row.collection_handles, row.category_handles, row.variant_count) == ([], [], 1)
    assert (row.price_min, row.on_sale) == ({"USD": "20.00"}, False)
    assert_products_match_oracle("acme", rows=2)

    with schema_context("acme"):
        commerce.product_transition(product_id=made.pk, action="archive")
    _drained()
    assert _rows() == {}
    assert_products_match_oracle("acme", rows=0)


def test_a_collection_made_with_its_products_lists_them(committed_shop):
    with schema_context("acme"):
        shirts = [product(f"Shirt {n}") for n in range(3)]
        _drained()
        commerce.collection_create(title="Picks", product_ids=[item.pk for item in shirts[:2]])
    _drained()
    with schema_context("acme"):
        picked = ProductListing.objects.filter(locale="en", collection_handles__contains=["picks"])
        assert sorted(row.title for row in picked) == ["Shirt 0", "Shirt 1"]
        commerce.collection_delete(collection_id=commerce.collection_create(title="X").pk)
    _drained()
    assert_products_match_oracle("acme", rows=6)


def test_a_locale_change_of_the_tenant_reprojects_every_product(committed_shop):
    with schema_context("acme"):
        product("Mug")
    _drained()
    assert sorted(_rows()) == ["de", "en"]
    tenancy.tenant_update(slug="acme", enabled_locales=["fr"])
    _drained()
    assert sorted(_rows()) == ["en", "fr"]
    assert_products_match_oracle("acme", rows=2)


def _catalogue() -> None:
    """A history of 30 products in acme with every kind of change, and a few in globex."""
    with schema_context("acme"):
        location = commerce.location_create(code="main", name="Main")
        sale = commerce.collection_create(title="Sale")
        shoes = commerce.category_create(name="Shoes")
        made = []
        for number in range(30):
            item = product(
                f"Product {number}",
                prices={"USD": f"{10 + number}.50", "JPY": f"{1000 + number}"},
                variants=1 + number % 3,
                vendor="Acme" if number % 2 else "Initech",
                category_ids=[shoes.pk] if number % 4 == 0 else [],
                activate=number % 10 != 9,
            )
            made.append(item)
            if number % 3 == 0:
                commerce.stock_adjust(
                    variant_id=first_variant(item).pk, location_id=location.pk,
                    delta=number + 1, reason="received",
                )  # fmt: skip
        commerce.collection_set_products(
            collection_id=sale.pk, product_ids=[item.pk for item in made[::5]]
        )
        commerce.product_update(product_id=made[1].pk, translations={"de": {"title": "Eins"}})
        commerce.product_transition(product_id=made[2].pk, action="archive")
        commerce.product_delete(product_id=made[9].pk)
        commerce.category_update(category_id=shoes.pk, handle="footwear")
    with schema_context("globex"):
        product("Globex gadget")


def test_replay_and_rebuild_give_the_oracles_rows(committed_shop):
    _catalogue()
    _drained()
    # 30 made, 3 never activated, one archived, one of those deleted: 26 listed, in 2 locales.
    assert_products_match_oracle("acme", rows=52)
    assert_products_match_oracle("globex", rows=1)
    with schema_context("acme"):
        report = check_product_listing()
    assert (report.differences, report.nodes, report.rows) == (0, 26, 52)

    def stored():
        with schema_context("acme"):
            return list(
                ProductListing.objects.order_by("product_id", "locale").values(
                    *[f.name for f in ProductListing._meta.fields if f.name not in
                      ("id", "indexed_at")]
                )
            )  # fmt: skip

    before = stored()
    assert services.events_replay(handler=HANDLER) > 100
    _drained()
    assert stored() == before

    with schema_context("acme"):
        ProductListing.objects.all().delete()
    call_command("rebuild_projections", "--projection", "product_listing", "--tenant", "acme")
    assert stored() == before
    assert_products_match_oracle("acme", rows=52)
    call_command("check_projections", "--projection", "product_listing")


def test_check_projections_finds_a_tampered_row(committed_shop):
    _catalogue()
    _drained()
    with schema_context("acme"):
        row = ProductListing.objects.filter(locale="de").order_by("title").first()
        ProductListing.objects.filter(pk=row.pk).update(price_min={"USD": "0.01"})
        ProductListing.objects.filter(locale="en", title="Product 4").update(title="Forged")
    out = StringIO()
    # The forged title also leaves its row's search vector behind: three differences.
    with pytest.raises(CommandError, match="3 difference"):
        call_command(
            "check_projections", "--projection", "product_listing", "--tenant", "acme",
            "--details", stdout=out,
        )  # fmt: skip
    details = out.getvalue()
    assert f"different  {row.product_id} [de] (price_min)" in details
    assert "(title)" in details and "vectors" in details
    call_command("check_projections", "--projection", "product_listing", "--tenant", "globex")
    call_command("rebuild_projections", "--projection", "product_listing", "--tenant", "acme")
    call_command("check_projections", "--projection", "product_listing", "--tenant", "acme")
    assert_products_match_oracle("acme", rows=52)


def test_prices_are_rounded_to_the_currencys_minor_unit(committed_shop):
    with schema_context("acme"):
        product("Teapot", prices={"USD": "12.5", "JPY": "1500"})
    _drained()
    assert _rows()["en"].price_min == {"JPY": "1500", "USD": "12.50"}
    assert Decimal(_rows()["en"].price_max["USD"]) == Decimal("12.50")


def test_the_main_image_is_the_first_in_the_products_order(committed_shop, media_root):
    with schema_context("acme"):
        made = product("Rain jacket")
        front = commerce.product_image_add(product_id=made.pk, file=png_upload("front.png"))
        back = commerce.product_image_add(product_id=made.pk, file=png_upload("back.png"))
    _drained()
    assert {row.image_id for row in _rows(product_id=made.pk).values()} == {front.pk}

    with schema_context("acme"):
        commerce.product_images_reorder(product_id=made.pk, image_ids=[back.pk, front.pk])
    _drained()
    assert {row.image_id for row in _rows(product_id=made.pk).values()} == {back.pk}

    with schema_context("acme"):
        commerce.product_image_delete(image_id=back.pk)
    _drained()
    assert {row.image_id for row in _rows(product_id=made.pk).values()} == {front.pk}
    assert_products_match_oracle("acme", rows=2)


def _queries_to_handle_one_retitle_each(count: int) -> tuple[int, int]:
    """``count`` products, drained; then each retitled twice (two versions of each in one
    batch): returns (events, queries of the batch that handles them)."""
    with schema_context("acme"):
        made = [product(f"Product {n}", variants=2) for n in range(count)]
    _drained()
    with schema_context("acme"):
        for item in made:
            for title in ("first", "last"):
                commerce.product_update(product_id=item.pk, fields={"title": f"{item.pk} {title}"})
    handled = queries_of_one_batch()
    with schema_context("acme"):
        titles = set(ProductListing.objects.filter(locale="en").values_list("title", flat=True))
    assert titles == {f"{item.pk} last" for item in made}
    return handled


# As for the content listing (tests/index/test_batch_handling.py, with its lookup of the rows
# behind the events), with the product read: the products, their variants, prices, options with
# their values, images, collections, categories and translations, and the stock of their
# variants (not the variants' option choices, which no row shows).
PRODUCT_BATCH_QUERIES = 31


@pytest.mark.parametrize("count", [3, 12])
def test_a_batch_of_product_events_costs_the_same_queries_whatever_its_size(committed_shop, count):
    events, queries = _queries_to_handle_one_retitle_each(count)
    assert events == 2 * count
    assert queries == PRODUCT_BATCH_QUERIES


def test_a_product_named_by_two_kinds_of_event_in_one_batch_is_written_once(committed_shop, caplog):
    """A product's own event names it by its aggregate id (text), a stock event by a UUID in its
    payload: one batch with both must read and write the product once (one upsert cannot
    affect a row twice), not fall back to handling its events one by one."""
    with schema_context("acme"):
        made = product("Wool socks", prices={"USD": "9"})
        variant = first_variant(made)
        location = commerce.location_create(name="Depot", code="DEP")
    _drained()
    with schema_context("acme"), transaction.atomic():
        commerce.product_update(product_id=made.pk, fields={"title": "Wool socks II"})
        commerce.stock_set(variant_id=variant.pk, location_id=location.pk, on_hand=4)
    with caplog.at_level("INFO", logger="apps.events.relay"):
        _drained()
    assert "retrying one by one" not in caplog.text
    rows = _rows(product_id=made.pk)
    assert sorted(rows) == ["de", "en"]
    assert (rows["en"].title, rows["en"].in_stock) == ("Wool socks II", True)


def test_product_events_older_than_its_rows_are_not_read_again_stock_events_are(committed_shop):
    with schema_context("acme"):
        made = product("Wool socks")
        commerce.product_update(product_id=made.pk, fields={"title": "Wool socks, again"})
        location = commerce.location_create(code="main", name="Main")
        commerce.stock_adjust(
            variant_id=first_variant(made).pk, location_id=location.pk, delta=5, reason="received"
        )
    _drained()
    rows = OutboxEvent.objects.filter(schema_name="acme", position__gt=0).order_by("position")
    events = [StoredEvent.from_row(row) for row in rows.values()]
    with schema_context("acme"):
        version = type(made).objects.get(pk=made.pk).version
        mine = [e for e in events if e.aggregate_id == str(made.pk)]
        older = [e for e in mine if e.aggregate_version < version]
        assert len(older) >= 3  # created, a variant, a price, activated
        listing = projections()["product_listing"]
        ProductListing.objects.filter(product_id=made.pk).update(title="Changed here")
        with CaptureQueriesContext(connection) as run:
            listing.apply_many(older)
        assert [q["sql"].split()[0] for q in run.captured_queries] == ["SELECT"]
        assert _rows()["en"].title == "Changed here"
        # The events of the rows' own version are read again.
        listing.apply_many([e for e in mine if e.aggregate_version == version])
    assert _rows()["en"].title == "Wool socks, again"
    with schema_context("acme"):
        ProductListing.objects.filter(product_id=made.pk).update(title="Changed here")
        # A stock event names no version of the product: the product is read.
        stock = [e for e in events if e.event_type == "commerce.inventory.adjusted"]
        listing.apply_many(stock)
    assert _rows()["en"].title == "Wool socks, again"
    assert _rows()["en"].total_available == 5
