"""The storefront's product listing reads: filters, sorts, search, their query counts, the
version guard and the tenants' isolation (``db`` tests: the projection runs over the outbox)."""

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.commerce import services as commerce
from apps.index import product_listing, selectors
from apps.index.errors import ListingQueryInvalid, PageNotFound
from apps.index.models import ProductListing
from apps.index.projections import projections
from tests.index.shop import committed_shop, first_variant, product, project_products, shop

COUNT = 30


def _title(number: int) -> str:
    # Titles in an order unlike the order of creation or of price.
    return f"item {(number * 7) % COUNT:02d}"


@pytest.fixture(scope="module")
def committed_catalogue(django_db_setup, django_db_blocker):
    """30 active products in acme (English only), made in order, committed once for the module;
    their numbers by id."""
    with committed_shop(django_db_blocker, {"acme": []}):
        with django_db_blocker.unblock():
            numbers = _build()
        yield numbers


@pytest.fixture
def catalogue(acme, committed_catalogue):
    with schema_context("acme"):
        yield committed_catalogue


def _build() -> dict:
    with schema_context("acme"):
        shop(("USD", "EUR"))
        location = commerce.location_create(code="main", name="Main")
        featured = commerce.collection_create(title="Featured")
        hats = commerce.category_create(name="Hats")
        numbers = {}
        for n in range(COUNT):
            prices = {"USD": f"{10 + n}.00"}
            if n % 2 == 0:
                prices["EUR"] = f"{40 - n}.00"
            made = product(
                _title(n),
                prices=prices,
                variants=1 + n % 3,
                options={"Colour": ["Red", "Blue", "Green"]} if n % 5 == 0 else None,
                category_ids=[hats.pk] if n % 5 == 0 else [],
                description="A waterproof coat." if n == 7 else "Plain.",
            )
            numbers[made.pk] = n
            if n % 4 == 0:
                commerce.stock_adjust(
                    variant_id=first_variant(made).pk, location_id=location.pk, delta=3,
                    reason="received",
                )  # fmt: skip
        commerce.collection_set_products(
            collection_id=featured.pk, product_ids=[pk for pk, n in numbers.items() if n % 3 == 0]
        )
    with schema_context("globex"):
        shop(("USD",))
        product("globex waterproof boots")
    project_products("acme")
    project_products("globex")
    return numbers


def _numbers(rows, numbers) -> list[int]:
    return [numbers[row.product_id] for row in rows]


def _filtered(numbers, **filters) -> set[int]:
    return set(_numbers(selectors.product_listing_rows(locale="en", **filters), numbers))


def test_every_active_product_is_listed_newest_first(catalogue):
    rows = list(selectors.product_listing_rows(locale="en"))
    assert _numbers(rows, catalogue) == list(reversed(range(COUNT)))


def test_filters(catalogue):
    every = set(range(COUNT))
    assert _filtered(catalogue, collection="featured") == {n for n in every if n % 3 == 0}
    assert _filtered(catalogue, category="hats") == {n for n in every if n % 5 == 0}
    assert _filtered(catalogue, in_stock=True) == {n for n in every if n % 4 == 0}
    assert _filtered(catalogue, in_stock=False) == {n for n in every if n % 4}
    assert _filtered(catalogue, currency="EUR") == {n for n in every if n % 2 == 0}
    assert _filtered(catalogue, currency="usd", price_min="15", price_max="20.00") == set(
        range(5, 11)
    )
    assert _filtered(catalogue, currency="EUR", price_max=Decimal("30")) == {
        n for n in range(10, COUNT) if n % 2 == 0
    }
    assert _filtered(catalogue, options={"Colour": "Blue"}) == {n for n in every if n % 5 == 0}
    sized_large = {n for n in every if n % 3 == 2 and n % 5}
    assert _filtered(catalogue, options={"Size": ["S2"]}) == sized_large
    assert _filtered(catalogue, options={"Size": ["S1", "S2"]}) == {
        n for n in every if n % 3 and n % 5
    }
    assert _filtered(catalogue, options={"Size": "S2", "Colour": "Red"}) == set()
    assert _filtered(
        catalogue, collection="featured", category="hats", in_stock=False, currency="USD"
    ) == {15}
    assert _filtered(catalogue, collection="nothing-here") == set()


def test_sorts(catalogue):
    def order(sort, **filters):
        return _numbers(
            selectors.product_listing_rows(locale="en", sort=sort, **filters), catalogue
        )

    assert order("price_asc", currency="USD") == list(range(COUNT))
    assert order("price_desc", currency="USD") == list(reversed(range(COUNT)))
    # In euros the cheapest are the last made (40 - n); odd products have no euro price.
    assert order("price_asc", currency="EUR") == [n for n in reversed(range(COUNT)) if n % 2 == 0]
    assert order("title") == sorted(range(COUNT), key=_title)
    assert order("newest", category="hats") == [25, 20, 15, 10, 5, 0]


def test_search_in_a_locale(catalogue):
    hits = selectors.product_listing(locale="en", query="waterproof")
    assert _numbers(hits.object_list, catalogue) == [7]
    hits = selectors.product_listing(locale="en", query=_title(12))
    assert _numbers(hits.object_list, catalogue)[0] == 12
    assert selectors.product_listing(locale="en", query="-", sort=None).paginator.count == COUNT
    assert selectors.product_listing(locale="de", query="waterproof").paginator.count == 0


def test_pages_and_their_query_count(catalogue, django_assert_num_queries):
    """A count and a page, whatever the page size and however many variants products have."""
    assert ProductListing.objects.exists()  # the tenant's search_path is set before counting
    for per_page in (5, COUNT):
        with django_assert_num_queries(2):
            page = selectors.product_listing(
                locale="en", page=1, per_page=per_page, currency="USD", sort="price_asc",
                price_min="0",
            )  # fmt: skip
            cards = [
                (row.title, row.price_min, row.in_stock, row.variant_count, row.option_names)
                for row in page.object_list
            ]
        # Cheapest first: product n, with 1 + n % 3 variants.
        assert [card[3] for card in cards] == [1 + n % 3 for n in range(per_page)]
        assert [card[0] for card in cards] == [_title(n) for n in range(per_page)]
    with pytest.raises(PageNotFound):
        selectors.product_listing(locale="en", page=4, per_page=10)


@pytest.mark.parametrize(
    "filters",
    [
        {"sort": "bogus"},
        {"sort": "relevance"},
        {"sort": "price_asc"},
        {"price_min": "5"},
        {"currency": "XYZ"},
        {"currency": "USD", "price_min": "cheap"},
        {"currency": "USD", "price_max": "-1"},
        {"currency": "USD", "price_max": 1.5},
        {"options": {f"o{n}": "v" for n in range(11)}},
    ],
)
def test_bad_listing_queries_are_refused(catalogue, filters):
    with pytest.raises(ListingQueryInvalid) as caught:
        selectors.product_listing(locale="en", **filters)
    assert caught.value.status == 400


def test_a_stale_update_is_ignored(catalogue):
    row = ProductListing.objects.get(locale="en", title=_title(3))
    made = commerce.product_update(product_id=row.product_id, fields={"title": "renamed"})
    project_products("acme")
    row.refresh_from_db()
    assert (row.title, row.source_version) == ("renamed", made.version)
    old = {"en": {**_values(row), "title": "stale title"}}
    product_listing.write(row.product_id, made.version - 1, old)
    row.refresh_from_db()
    assert row.title == "renamed"
    # Stock, collections and categories do not bump the version: the same version is news.
    product_listing.write(row.product_id, made.version, {"en": {**_values(row), "title": "now"}})
    row.refresh_from_db()
    assert row.title == "now"


def _values(row) -> dict:
    return {name: getattr(row, name) for name in product_listing.ROW_FIELDS}


def test_tenants_see_only_their_own_products(catalogue):
    assert selectors.product_listing(locale="en", query="boots").paginator.count == 0
    assert ProductListing.objects.count() == COUNT
    with schema_context("globex"):
        assert [row.title for row in selectors.product_listing_rows(locale="en")] == [
            "globex waterproof boots"
        ]
        hits = selectors.product_listing(locale="en", query="waterproof")
        assert [row.title for row in hits.object_list] == ["globex waterproof boots"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM index_product_listing")
            assert cursor.fetchone() == (1,)


def test_what_is_cached_from_the_listing_is_dropped_when_it_changes(acme):
    with schema_context("acme"):
        assert selectors.product_listing_cached("probe", lambda: "before") == "before"
        assert selectors.product_listing_cached("probe", lambda: "again") == "before"
        projections()["product_listing"].rebuild()  # an empty catalog: no row is written
        assert selectors.product_listing_cached("probe", lambda: "after") == "after"
