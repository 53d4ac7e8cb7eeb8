"""The catalog's CSV import and export: format, all-or-nothing import, commands, admin pages."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.commerce import csv_format, selectors, services
from apps.commerce.models import (
    CollectionProduct,
    OptionValue,
    Price,
    Product,
    ProductOption,
    StockAdjustment,
    StockLevel,
    Variant,
)
from apps.events.models import OutboxEvent
from apps.tenancy.services import tenant_groups_sync
from tests.factories import StaffFactory

from .conftest import make_location, make_product, make_variant, outbox_head

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "catalog-example.csv"
HEADER = (
    "handle,title,description,vendor,product_type,status,seo_title,seo_description,"
    "option1_name,option1_value,option2_name,option2_value,option3_name,option3_value,"
    "sku,barcode,weight_grams,inventory_policy,tracked,low_stock_threshold,collections,"
    "categories,price_USD,compare_at_USD,stock_main"
)


def line(handle="tee", title="Tee", sku="T-1", *, size="", size_name="", price="10.00",
         compare="", stock="", status="", collections="", categories="", policy="deny",
         tracked="true", weight="") -> str:  # fmt: skip
    cells = [
        handle, title, "", "", "", status, "", "", size_name, size, "", "", "", "", sku, "",
        weight, policy, tracked, "0", collections, categories, price, compare, stock,
    ]  # fmt: skip
    return ",".join(cells)


def csv_text(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def run_import(text: str, **kwargs) -> services.ImportSummary:
    return services.catalog_import(rows=csv_format.parse(text).rows, **kwargs)


def export_text() -> str:
    currencies, locations, records = selectors.catalog_export()
    out = io.StringIO()
    csv_format.write(out, csv_format.header_for(currencies, locations), records)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = (Product, ProductOption, OptionValue, Variant, Price, StockLevel, StockAdjustment,
              CollectionProduct)  # fmt: skip
    return {
        **{model.__name__: model.objects.count() for model in models},
        "outbox": outbox_head(),
    }


def rejected(text: str) -> list[tuple[int, str]]:
    """The (row, column) of every error of importing ``text``, checking nothing was written."""
    before = counts()
    with pytest.raises(csv_format.ImportRejected) as caught:
        parsed = csv_format.parse(text, collect=True)
        services.catalog_import(rows=parsed.rows, file_errors=parsed.errors)
    assert counts() == before
    return [(error.row, error.column) for error in caught.value.row_errors]


@pytest.fixture
def store(acme_db):
    make_location(code="main", name="Main")
    return acme_db


# -- the example, the round trip -------------------------------------------------------------


def test_the_documented_example_imports(store):
    summary = run_import(EXAMPLE.read_text(encoding="utf-8"))
    assert (summary.products_created, summary.variants_created) == (2, 5)
    shirt = Product.objects.get(handle="linen-shirt")
    assert shirt.status == "active"
    assert [o.name for o in shirt.options.all()] == ["Size", "Colour"]
    variant = Variant.objects.get(sku="LS-M-NAVY")
    assert selectors.variant_options(variant) == {"Size": "M", "Colour": "Navy"}
    assert variant.inventory_policy == "continue"
    price = Price.objects.get(variant__sku="LS-S-SAND", currency="USD")
    assert (price.amount, price.compare_at_amount) == (Decimal("49.00"), Decimal("59.00"))
    assert StockLevel.objects.get(variant__sku="LS-M-SAND").on_hand == 20
    assert Variant.objects.get(sku="GIFT-25").tracked is False
    types = list(OutboxEvent.objects.order_by("position").values_list("event_type", flat=True))
    assert types.count("commerce.product.created") == 2
    assert types.count("commerce.product.activated") == 1
    assert types.count("commerce.inventory.adjusted") == 3  # the 0 on hand changes nothing


def test_export_then_import_changes_nothing(store):
    services.category_create(name="Tops", handle="tops")
    services.collection_create(title="Summer", handle="summer")
    run_import(EXAMPLE.read_text(encoding="utf-8"))
    services.product_update(
        product_id=Product.objects.get(handle="gift-card").pk,
        fields={"category_ids": [selectors.category_by_handle("tops").pk]},
    )
    exported = export_text()
    before = counts()
    versions = dict(Product.objects.values_list("handle", "version"))
    summary = run_import(exported)
    assert (summary.products_updated, summary.variants_updated, summary.events) == (0, 0, 0)
    assert counts() == before
    assert dict(Product.objects.values_list("handle", "version")) == versions
    assert export_text() == exported
    assert "gift-card" in exported and ",tops," in exported


def test_import_updates_by_handle_and_sku_with_one_event_per_product(store):
    run_import(EXAMPLE.read_text(encoding="utf-8"))
    shirt = Product.objects.get(handle="linen-shirt")
    head = outbox_head()
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'Linen shirt,"A loose', 'Linen shirt II,"A loose'
    )
    text = text.replace("52.50", "55.00")
    summary = run_import(text)
    assert (summary.products_updated, summary.variants_updated) == (1, 0)
    shirt.refresh_from_db()
    assert shirt.title == "Linen shirt II"
    assert Price.objects.get(variant__sku="LS-M-NAVY", currency="USD").amount == Decimal("55.00")
    new = OutboxEvent.objects.filter(position__gt=head)
    assert [(e.event_type, e.payload["changed"]) for e in new] == [
        ("commerce.product.updated", ["title", "prices"])
    ]
    assert new[0].aggregate_version == shirt.version


def test_dry_run_writes_nothing_and_counts(store):
    before = counts()
    summary = run_import(EXAMPLE.read_text(encoding="utf-8"), dry_run=True)
    assert summary.variants_created == 5
    assert counts() == before


# -- errors: by row and column, nothing written ------------------------------------------------


def test_every_error_of_a_file_is_reported_by_row_and_column(store):
    text = csv_text(
        line(sku="A-1", price="abc"),                       # row 2: not a number
        line(handle="Bad Handle", sku="A-2"),               # row 3
        line(handle="two", title="", sku="A-3"),            # row 4: title required
        line(handle="three", sku="A 4"),                    # row 5: space in SKU
        line(handle="four", sku="A-5", price="1e3"),        # row 6: exponent
        line(handle="five", sku="A-6", price='"1,50"'),       # row 7: comma
        line(handle="six", sku="A-7", price="5", compare="4"),  # row 8: compare-at lower
        line(handle="seven", sku="A-8", stock="-1"),        # row 9: below zero, deny
        line(handle="eight", sku="A-9", tracked="maybe"),   # row 10
        line(handle="nine", sku="A-10", status="gone"),     # row 11
        line(handle="ten", sku="A-11", categories="nope"),  # row 12
        line(handle="eleven", sku="A-12", weight="-3"),     # row 13
    )  # fmt: skip
    assert rejected(text) == [
        (2, "price_USD"), (3, "handle"), (4, "title"), (5, "sku"), (6, "price_USD"),
        (7, "price_USD"), (8, "compare_at_USD"), (9, "stock_main"), (10, "tracked"),
        (11, "status"), (12, "categories"), (13, "weight_grams"),
    ]  # fmt: skip


def test_errors_that_need_the_store_are_reported_by_row_and_column(store):
    text = csv_text(
        line(handle="one", sku="B-1", price="5", compare="4"),
        line(handle="two", sku="B-2", stock="-1"),
        line(handle="three", sku="B-3", categories="nope"),
        line(handle="four", sku="B-4", collections="none"),
        line(handle="five", sku="B-5", price="", status="active"),
    )
    assert rejected(text) == [
        (2, "compare_at_USD"), (3, "stock_main"), (4, "categories"), (5, "collections"),
        (6, "status"),
    ]  # fmt: skip


def test_money_is_rounded_to_the_currency_and_refuses_float_notation(store):
    assert rejected(csv_text(line(price="1.5e1"))) == [(2, "price_USD")]
    assert rejected(csv_text(line(price="NaN"))) == [(2, "price_USD")]
    assert rejected(csv_text(line(price="-1.00"))) == [(2, "price_USD")]
    run_import(csv_text(line(price="19.995")))
    assert Price.objects.get(variant__sku="T-1").amount == Decimal("20.00")


def test_unknown_or_disabled_currency(store):
    header = HEADER.replace("price_USD,compare_at_USD", "price_QQQ,compare_at_QQQ")
    assert rejected(csv_text(line(), header=header)) == [(2, "price_QQQ")]
    header = HEADER.replace("price_USD,compare_at_USD", "price_GBP,compare_at_GBP")
    assert rejected(csv_text(line(), header=header)) == [(2, "price_GBP")]
    header = HEADER.replace("price_USD", "price_usd")
    assert (1, "price_usd") in rejected(csv_text(line(), header=header))


def test_header_errors(store):
    assert rejected(csv_text(line(), header=HEADER + ",colour")) == [(1, "colour")]
    assert rejected(csv_text(line(), header=HEADER.replace("sku,", "code,"))) == [
        (1, "code"), (1, "sku")
    ]  # fmt: skip
    assert rejected("") == [(1, "")]
    assert rejected(csv_text(line() + ",extra")) == [(2, "")]


def test_duplicate_sku_in_the_file_and_in_the_store(store):
    assert rejected(csv_text(line(sku="D-1"), line(handle="other", sku="D-1"))) == [(3, "sku")]
    make_variant(make_product("Stored", handle="stored"), sku="D-2")
    assert rejected(csv_text(line(handle="new", sku="D-2"))) == [(2, "sku")]


def test_continuation_rows_and_options(store):
    text = csv_text(
        line(sku="O-1", size_name="Size", size="S"),
        line(title="", sku="O-2", size="M"),
        line(title="Other title", sku="O-3", size="L"),   # row 4: differs from row 2
        line(title="", sku="O-4", size=""),               # row 5: no value for Size
        line(title="", sku="O-5", size="S"),              # row 6: same as row 2
    )  # fmt: skip
    assert rejected(text) == [(4, "title"), (5, "option1_value"), (6, "option1_value")]


def test_an_existing_products_options_cannot_be_changed(store):
    make_variant(make_product("Stored", handle="stored"), sku="E-1")
    assert rejected(csv_text(line(handle="stored", sku="E-1", size_name="Size", size="S"))) == [
        (2, "option1_name")
    ]


def test_collections_gain_imported_products(store):
    collection = services.collection_create(title="Summer", handle="summer")
    head = outbox_head()
    run_import(
        csv_text(line(collections="summer"), line(handle="two", sku="T-2", collections="summer"))
    )
    tee, two = (Product.objects.get(handle=handle).pk for handle in ("tee", "two"))
    assert selectors.collection_product_ids(collection.pk) == [tee, two]
    updates = OutboxEvent.objects.filter(
        position__gt=head, event_type="commerce.collection.updated"
    )
    assert len(updates[0].payload["product_ids"]) == 2


# -- queries -------------------------------------------------------------------------------


def _variants_file(products: int, per_product: int, *, prefix: str) -> str:
    lines = []
    for p in range(products):
        for v in range(per_product):
            lines.append(line(handle=f"{prefix}-{p}", title="" if v else f"P {p}",
                              sku=f"{prefix}-{p}-{v}", size_name="" if v else "Size",
                              size=f"V{v}"))  # fmt: skip
    return csv_text(*lines)


def _queries(text: str) -> int:
    rows = csv_format.parse(text).rows
    with CaptureQueriesContext(connection) as captured:
        services.catalog_import(rows=rows)
    return len(captured.captured_queries)


def test_import_query_count_does_not_grow_with_variants(store, django_assert_num_queries):
    rows_50 = csv_format.parse(_variants_file(5, 10, prefix="a")).rows
    rows_500 = csv_format.parse(_variants_file(5, 100, prefix="b")).rows
    with django_assert_num_queries(EXPECTED_QUERIES):
        services.catalog_import(rows=rows_50)
    with django_assert_num_queries(EXPECTED_QUERIES):
        services.catalog_import(rows=rows_500)
    assert Variant.objects.count() == 550


EXPECTED_QUERIES = 16


# -- commands ------------------------------------------------------------------------------


def test_import_command_prints_progress_and_a_summary(store, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    out = io.StringIO()
    call_command("import_catalog", str(path), "--tenant", "acme", stdout=out)
    text = out.getvalue()
    assert "10/10" in text and "[##############################]" in text
    assert "products: 2 created, 0 updated" in text
    assert "variants: 5 created, 0 updated" in text
    assert Product.objects.count() == 2


def test_import_command_lists_errors_and_fails(store, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(csv_text(line(price="abc"), line(handle="x", sku="T-1")), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_catalog", str(path), "--tenant", "acme", stderr=err)
    assert "row      2  price_USD" in err.getvalue()
    assert "row      3  sku" in err.getvalue()
    assert Product.objects.count() == 0


def test_import_command_exit_status_and_dry_run(store, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    out = io.StringIO()
    call_command("import_catalog", str(path), "--tenant", "acme", "--dry-run", stdout=out)
    assert "Would import 5 row(s)" in out.getvalue()
    assert Product.objects.count() == 0
    with pytest.raises(CommandError, match="no tenant"):
        call_command("import_catalog", str(path), "--tenant", "nobody")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_catalog", str(tmp_path / "missing.csv"), "--tenant", "acme")


def test_export_command_round_trips(store, tmp_path):
    run_import(EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "out.csv"
    call_command("export_catalog", "--tenant", "acme", str(path), stderr=io.StringIO())
    assert path.read_bytes().decode("utf-8") == export_text()
    assert run_import(path.read_text(encoding="utf-8")).events == 0


# -- admin pages ---------------------------------------------------------------------------


def _client_in(acme_client, group: str):
    with schema_context("acme"):
        tenant_groups_sync()
        user = StaffFactory(email=f"{group.lower()}@acme.test")
        user.groups.add(Group.objects.get(name=group))
        acme_client.force_login(user)
    return acme_client


def test_merchant_imports_and_exports_in_the_admin(store, acme_client):
    client = _client_in(acme_client, "Merchant")
    assert client.get("/admin/commerce/import/").status_code == 200
    with EXAMPLE.open("rb") as upload:
        response = client.post("/admin/commerce/import/", {"file": upload})
    assert response.status_code == 302
    with schema_context("acme"):
        assert Product.objects.count() == 2
    response = client.get("/admin/commerce/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert b"LS-M-NAVY" in response.content


def test_the_admin_import_shows_errors_by_row_and_column(store, acme_client):
    client = _client_in(acme_client, "Merchant")
    upload = io.BytesIO(csv_text(line(price="abc")).encode())
    upload.name = "bad.csv"
    response = client.post("/admin/commerce/import/", {"file": upload})
    assert response.status_code == 400
    body = response.content.decode()
    assert "<td>2</td><td>price_USD</td>" in body
    with schema_context("acme"):
        assert Product.objects.count() == 0


def test_an_editor_may_not_import_or_export(store, acme_client):
    client = _client_in(acme_client, "Editor")
    assert client.get("/admin/commerce/import/").status_code == 403
    assert client.get("/admin/commerce/export/").status_code == 403


def test_reimport_with_changed_prices_costs_the_same_for_50_and_500_rows(store):
    small, large = _variants_file(5, 10, prefix="a"), _variants_file(5, 100, prefix="b")
    run_import(small)
    run_import(large)
    small, large = small.replace("10.00", "11.00"), large.replace("10.00", "11.00")
    assert (_queries(small), _queries(large)) == (REIMPORT_QUERIES, REIMPORT_QUERIES)
    assert set(Price.objects.values_list("amount", flat=True)) == {Decimal("11.00")}


REIMPORT_QUERIES = 18


# -- updates through the import ------------------------------------------------------------


def test_status_changes_follow_the_product_status_machine(store):
    run_import(csv_text(line(sku="S-1")))
    product = Product.objects.get(handle="tee")
    head = outbox_head()
    run_import(csv_text(line(sku="S-1", status="active")))
    product.refresh_from_db()
    assert product.status == "active"
    new = list(OutboxEvent.objects.filter(position__gt=head))
    assert [(e.event_type, e.aggregate_version) for e in new] == [
        ("commerce.product.activated", product.version)
    ]
    run_import(csv_text(line(sku="S-1", status="archived")))
    assert rejected(csv_text(line(sku="S-1", status="active"))) == [(2, "status")]
    assert rejected(csv_text(line(handle="fresh", sku="S-2", status="archived"))) == [(2, "status")]


def test_stock_changes_are_adjustments_and_a_low_stock_crossing_is_published(store):
    text = csv_text(line(sku="K-1", stock="10")).replace(",true,0,", ",true,5,")
    run_import(text)
    variant = Variant.objects.get(sku="K-1")
    head = outbox_head()
    run_import(text.replace(",10\n", ",3\n"))
    adjustment = StockAdjustment.objects.filter(variant=variant).order_by("-id").first()
    assert (adjustment.delta, adjustment.reason, adjustment.on_hand_after) == (-7, "correction", 3)
    types = [
        e.event_type for e in OutboxEvent.objects.filter(position__gt=head).order_by("position")
    ]
    assert types == ["commerce.inventory.adjusted", "commerce.inventory.low"]


def test_categories_are_replaced_and_new_option_values_added(store):
    services.category_create(name="Tops", handle="tops")
    services.category_create(name="Sale", handle="sale")
    run_import(csv_text(line(sku="C-1", size_name="Size", size="S", categories="tops")))
    product = Product.objects.get(handle="tee")
    head = outbox_head()
    run_import(csv_text(line(sku="C-1", size_name="Size", size="XL", categories="sale|tops")))
    assert sorted(c.handle for c in product.categories.all()) == ["sale", "tops"]
    variant = Variant.objects.get(sku="C-1")
    assert selectors.variant_options(variant) == {"Size": "XL"}
    assert list(OptionValue.objects.filter(option__product=product).values_list("value", flat=True)) == [
        "S", "XL"
    ]  # fmt: skip
    (event,) = OutboxEvent.objects.filter(position__gt=head)
    assert event.payload["changed"] == ["categories", "options.0.values", "variants"]


def test_an_import_never_touches_another_tenant(store, globex):
    with schema_context("globex"):
        make_variant(make_product("Globex tee", handle="tee"), sku="T-1")
        globex_before = counts()
    run_import(csv_text(line(sku="T-1", price="12.00")))
    assert Product.objects.get(handle="tee").title == "Tee"
    with schema_context("globex"):
        assert {k: v for k, v in counts().items() if k != "outbox"} == {
            k: v for k, v in globex_before.items() if k != "outbox"
        }
        assert Product.objects.get(handle="tee").title == "Globex tee"


# -- the file format ----------------------------------------------------------------------


@given(
    title=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60),
    description=st.text(st.characters(blacklist_categories=("Cs",)), max_size=200),
)
@settings(max_examples=60, deadline=None)
def test_any_text_written_is_read_back(title, description):
    title = title.strip() or "x"
    out = io.StringIO()
    header = csv_format.header_for(["USD"], ["main"])
    csv_format.write(
        out, header, [{"handle": "h", "sku": "S", "title": title, "description": description}]
    )
    (row,) = csv_format.parse(out.getvalue()).rows
    assert row.product["title"] == title
    assert row.product["description"] == description.strip()


def test_the_admin_refuses_a_file_that_is_not_utf8_and_checks_without_importing(store, acme_client):
    client = _client_in(acme_client, "Merchant")
    upload = io.BytesIO("handle,sku\nt\xe9e,T-1\n".encode("latin-1"))
    upload.name = "latin1.csv"
    response = client.post("/admin/commerce/import/", {"file": upload})
    assert response.status_code == 400
    with EXAMPLE.open("rb") as upload:
        response = client.post("/admin/commerce/import/", {"file": upload, "dry_run": "on"})
    assert response.status_code == 200
    assert "5 created" in response.content.decode()
    with schema_context("acme"):
        assert Product.objects.count() == 0
