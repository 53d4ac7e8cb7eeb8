"""The pages' product-grid block on the storefront: real products from each source, in order,
never drafts, archived products or another tenant's, in a fixed number of queries."""

import pytest
from django_tenants.utils import schema_context

from apps.commerce import services as commerce
from tests.conftest import tenant_client
from tests.index.shop import product, shop
from tests.pages.support import make_page

pytestmark = pytest.mark.usefixtures("acme_site")
PRICES = {"EUR": "100.00", "USD": "120.00"}


@pytest.fixture
def catalog(acme_site):
    """acme sells in EUR and USD: six tents (the newest last), a draft and an archived one."""
    with schema_context("acme"):
        shop(("EUR", "USD"))
        tents = commerce.category_create(name="Tents", handle="tents")
        made = [
            product(f"Tent {n}", prices=PRICES, category_ids=[tents.pk], variants=2)
            for n in range(6)
        ]
        draft = product("Draft tent", prices=PRICES, category_ids=[tents.pk], activate=False)
        archived = product("Archived tent", prices=PRICES, category_ids=[tents.pk])
        commerce.product_transition(product_id=archived.pk, action="archive")
        commerce.collection_create(
            title="Summer",
            handle="summer",
            product_ids=[made[3].pk, draft.pk, made[0].pk, archived.pk, made[5].pk],
        )
    return {"tents": made, "draft": draft, "archived": archived}


def grid_page(*blocks, slug="gear", schema="acme"):
    make_page(en=("Gear", slug), blocks={"en": list(blocks)}, schema=schema)
    return f"/{slug}/"


def grid(**fields):
    return {"type": "product_grid", "title": "Our gear", **fields}


def titles_in(html: str, candidates: list[str]) -> list[str]:
    """The candidates' card titles in the order the page shows them."""
    found = [
        (html.index(f">{title}</a>"), title) for title in candidates if f">{title}</a>" in html
    ]
    return [title for _, title in sorted(found)]


ALL = [f"Tent {n}" for n in range(6)] + ["Draft tent", "Archived tent"]


def test_a_category_grid_shows_its_newest_active_products(acme_client, catalog):
    html = acme_client.get(grid_page(grid(category="tents", count=4))).content.decode()
    assert titles_in(html, ALL) == ["Tent 5", "Tent 4", "Tent 3", "Tent 2"]
    tent = catalog["tents"][5]
    assert f'href="/shop/{tent.handle}/"' in html
    assert "€100.00" in html and "from €100.00" in html  # its second variant costs more
    assert "<h2>Our gear</h2>" in html and '<h3 class="product-card__title">' in html
    assert "No products to show here yet." not in html


def test_a_stored_category_slug_grid_shows_the_category(acme_client, catalog):
    html = acme_client.get(grid_page(grid(category_slug="tents", count=2))).content.decode()
    assert titles_in(html, ALL) == ["Tent 5", "Tent 4"]


def test_a_collection_grid_keeps_the_collections_order_without_drafts_or_archived(
    acme_client, catalog
):
    html = acme_client.get(grid_page(grid(collection="summer", count=24))).content.decode()
    assert titles_in(html, ALL) == ["Tent 3", "Tent 0", "Tent 5"]


def test_a_handles_grid_keeps_the_editors_order(acme_client, catalog):
    tents = catalog["tents"]
    handles = [
        tents[4].handle, catalog["draft"].handle, "no-such-product", tents[1].handle,
        catalog["archived"].handle, tents[2].handle,
    ]  # fmt: skip
    html = acme_client.get(grid_page(grid(handles=handles))).content.decode()
    assert titles_in(html, ALL) == ["Tent 4", "Tent 1", "Tent 2"]
    # count cuts the list short, in the same order
    short = grid_page(grid(handles=handles, count=2), slug="short")
    assert titles_in(acme_client.get(short).content.decode(), ALL) == ["Tent 4", "Tent 1"]


def test_prices_follow_the_readers_currency(acme_client, catalog):
    url = grid_page(grid(handles=[catalog["tents"][0].handle]))
    assert "from $120.00" in acme_client.get(url, {"currency": "USD"}).content.decode()


def test_an_empty_grid_says_so_kindly(acme_client, catalog):
    html = acme_client.get(grid_page(grid(collection="winter"))).content.decode()
    assert "No products to show here yet." in html and "once the shop opens" not in html
    assert titles_in(html, ALL) == []


def test_another_tenants_grid_never_shows_acmes_products(globex_site, globex_client, catalog):
    url = grid_page(grid(category="tents"), schema="globex")
    with schema_context("globex"):
        shop(("USD",))
        commerce.category_create(name="Tents", handle="tents")
    html = globex_client.get(url).content.decode()
    assert titles_in(html, ALL) == [] and "No products to show here yet." in html


@pytest.fixture
def big_catalog(acme_site):
    """24 active products with three priced variants each."""
    with schema_context("acme"):
        shop(("EUR", "USD"))
        return [product(f"Lamp {n}", prices=PRICES, variants=3) for n in range(24)]


# The page's chain (+ its tags, translations), the products, their translations, variants,
# prices, images, their stock, the store's currencies: the same for 4 products as for 24.
GRID_QUERIES = 10


@pytest.mark.parametrize("count", [4, 24])
def test_a_grid_costs_the_same_queries_for_4_and_24_products(
    acme_client, big_catalog, django_assert_num_queries, count
):
    handles = [made.handle for made in big_catalog[:count]]
    url = grid_page(grid(handles=handles))
    acme_client.get(url)  # the site snapshot and the tenant are cached, as on a live site
    with django_assert_num_queries(GRID_QUERIES):
        html = acme_client.get(url).content.decode()
    assert html.count('class="product-card"') == count


def test_a_cached_grid_page_shows_each_reader_their_own_currency(catalog, settings):
    """The grid prices in the reader's currency (its cookie): one reader's choice never
    reaches the next reader through the page cache."""
    settings.STOREFRONT_PAGE_CACHE_SECONDS = 300
    path = grid_page(grid(category="tents", count=2))
    dollars = tenant_client("acme")
    dollars.cookies["currency"] = "USD"
    assert "$120.00" in dollars.get(path).content.decode()
    assert "$120.00" in dollars.get(path).content.decode()  # stored, then served
    default = tenant_client("acme").get(path).content.decode()
    assert "€100.00" in default and "$120.00" not in default
    asked = tenant_client("acme").get(f"{path}?currency=USD").content.decode()
    assert "$120.00" in asked
