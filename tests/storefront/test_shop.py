"""The shop's pages: the catalog listing (filters, sorts, pages, currencies, locales, bad
input, isolation, query counts) and a product's page (variants, prices, stock, JSON-LD)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape

import pytest
from django_tenants.utils import schema_context

from apps.commerce import selectors
from apps.commerce import services as commerce
from apps.commerce.services import ProductInput, VariantInput
from apps.storefront.shop_money import CURRENCY_COOKIE
from tests.index.shop import committed_shop, first_variant, product, project_products, shop
from tests.pages.support import LOCALES, png_upload

NBSP = "\xa0"


def _html(response) -> str:
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def _titles(html: str) -> list[str]:
    return [
        unescape(title)
        for title in re.findall(r'class="product-card__title"><a href="[^"]*">([^<]*)</a>', html)
    ]


def _card_urls(html: str) -> list[str]:
    return re.findall(r'class="product-card__title"><a href="([^"]*)"', html)


@pytest.fixture(scope="module")
def committed_catalogue(django_db_setup, django_db_blocker):
    """acme (en, de; USD default, EUR) with six products; globex with one of its own: committed
    once for the module."""
    with committed_shop(django_db_blocker, {"acme": LOCALES, "globex": LOCALES}):
        with django_db_blocker.unblock():
            made = _build()
        yield made


@pytest.fixture
def catalogue(acme_site, globex_site, committed_catalogue):
    return committed_catalogue


def _build() -> dict:
    with schema_context("acme"):
        shop(("USD", "EUR"))
        main = commerce.location_create(code="main", name="Main")
        summer = commerce.collection_create(title="Summer")
        outdoor = commerce.category_create(name="Outdoor")
        tents = commerce.category_create(name="Tents", parent_id=outdoor.pk)
        made = {
            "tent": product(
                "Alpine tent", prices={"USD": "300.00", "EUR": "280.00"}, variants=3,
                options={"Size": ["S", "M", "L"]}, category_ids=[tents.pk], vendor="Acme Gear",
            ),
            "boots": product("Boots", prices={"USD": "120.00"}, category_ids=[outdoor.pk]),
            "cap": product(
                "Cap", prices={"USD": "15.00", "EUR": "14.00"}, variants=2,
                options={"Colour": ["Red", "Blue"]},
            ),
            "mug": product("Mug", prices={"USD": "9.50", "EUR": "8.50"}),
            "shirt": product(
                "Shirt", prices={"USD": "25.00", "EUR": "24.00"}, variants=2,
                options={"Size": ["M", "XL"]},
            ),
            "draft": product("Hidden lamp", prices={"USD": "50.00"}, activate=False),
        }  # fmt: skip
        for key in ("tent", "mug"):
            commerce.stock_adjust(
                variant_id=first_variant(made[key]).pk, location_id=main.pk, delta=4,
                reason="received",
            )  # fmt: skip
        commerce.collection_set_products(
            collection_id=summer.pk, product_ids=[made["cap"].pk, made["shirt"].pk]
        )
        commerce.product_update(
            product_id=made["tent"].pk,
            translations={"de": {"title": "Alpenzelt", "description": "Ein *leichtes* Zelt."}},
        )
    with schema_context("globex"):
        shop(("USD",))
        made["globex"] = product("Globex secret gadget", prices={"USD": "99.00"})
    project_products("acme")
    project_products("globex")
    return made


def _main_location():
    """The committed catalogue's location, for tests that add products of their own."""
    return selectors.location_by_code("main") or commerce.location_create(code="main", name="Main")


# -- the listing --------------------------------------------------------------------------


def test_the_listing_shows_active_products_newest_first(acme_client, catalogue):
    html = _html(acme_client.get("/shop/"))
    assert _titles(html) == ["Shirt", "Mug", "Cap", "Boots", "Alpine tent"]
    assert f'href="/shop/{catalogue["tent"].handle}/"' in html
    assert "Hidden lamp" not in html
    assert "5 products" in html
    # "from" when the variants' prices differ, the price alone otherwise.
    assert "from $300.00" in html and "$9.50" in html and "from $9.50" not in html


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("?collection=summer", ["Shirt", "Cap"]),
        ("?category=tents", ["Alpine tent"]),
        ("?category=outdoor", ["Boots"]),  # the category itself, not its subcategories
        ("?collection=nothing-here", []),
        ("?price_min=20", ["Shirt", "Boots", "Alpine tent"]),
        ("?price_max=20", ["Mug", "Cap"]),
        ("?price_min=10&price_max=100", ["Shirt", "Cap"]),
        ("?opt=Size:M", ["Shirt", "Alpine tent"]),
        ("?opt=Size:XL&opt=Size:S", ["Shirt", "Alpine tent"]),  # any value of one option
        ("?opt=Size:XL&opt=Colour:Red", []),  # every option named
        ("?opt=Colour:Blue", ["Cap"]),
        ("?in_stock=1", ["Mug", "Alpine tent"]),
        ("?in_stock=0", ["Shirt", "Cap", "Boots"]),
        ("?q=tent", ["Alpine tent"]),
        ("?collection=summer&opt=Size:M&in_stock=0", ["Shirt"]),
    ],
)
def test_filters(acme_client, catalogue, query, titles):
    html = _html(acme_client.get(f"/shop/{query}"))
    assert _titles(html) == titles
    assert '<meta name="robots" content="noindex, follow">' in html
    if not titles:
        assert "No products match these filters." in html


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("?sort=newest", ["Shirt", "Mug", "Cap", "Boots", "Alpine tent"]),
        ("?sort=title", ["Alpine tent", "Boots", "Cap", "Mug", "Shirt"]),
        ("?sort=price_asc", ["Mug", "Cap", "Shirt", "Boots", "Alpine tent"]),
        ("?sort=price_desc", ["Alpine tent", "Boots", "Shirt", "Cap", "Mug"]),
        # In euros: Boots has no price there, so it is not offered.
        ("?sort=price_asc&currency=EUR", ["Mug", "Cap", "Shirt", "Alpine tent"]),
    ],
)
def test_sorts(acme_client, catalogue, query, titles):
    assert _titles(_html(acme_client.get(f"/shop/{query}"))) == titles


def test_the_sort_offered_is_the_one_applied(acme_client, catalogue):
    html = _html(acme_client.get("/shop/?sort=price_desc"))
    assert '<option value="price_desc" selected>' in html
    assert 'value="relevance"' not in html  # only with words to search
    html = _html(acme_client.get("/shop/?q=tent"))
    assert '<option value="relevance" selected>' in html


def test_the_filter_form_offers_what_the_catalogue_has(acme_client, catalogue):
    html = _html(acme_client.get("/shop/?opt=Size:M&collection=summer"))
    assert '<option value="summer" selected>Summer</option>' in html
    assert '<option value="outdoor">Outdoor</option>' in html
    assert f'<option value="tents">{NBSP * 3}Tents</option>' in html
    values = re.findall(r'name="opt" value="([^"]*)"( checked)?', html)
    # Every value some variant of an active product has, options by name, values in the
    # order the products give them (the first position any product gives a value).
    assert values == [
        ("Colour:Red", ""), ("Colour:Blue", ""),
        ("Size:M", " checked"), ("Size:S", ""), ("Size:XL", ""), ("Size:L", ""),
    ]  # fmt: skip


def test_pages_keep_the_filters(acme_client, catalogue, monkeypatch):
    monkeypatch.setattr("apps.storefront.shop_views.PER_PAGE", 2)
    first = _html(acme_client.get("/shop/?sort=title&opt=Size:M&opt=Size:S&currency=USD"))
    assert _titles(first) == ["Alpine tent", "Shirt"]
    assert "Page 1 of 1" not in first  # one page only: no navigation
    first = _html(acme_client.get("/shop/?sort=title"))
    assert _titles(first) == ["Alpine tent", "Boots"]
    assert 'href="?sort=title&amp;page=2" rel="next"' in first
    second = _html(acme_client.get("/shop/?sort=title&page=2"))
    assert _titles(second) == ["Cap", "Mug"]
    assert "Page 2 of 3" in second
    assert 'href="?sort=title&amp;page=1" rel="prev"' in second
    assert 'href="?sort=title&amp;page=3" rel="next"' in second
    assert _titles(_html(acme_client.get("/shop/?sort=title&page=3"))) == ["Shirt"]


@pytest.mark.parametrize("page", ["4", "0", "-1", "two", "99999999999999999999"])
def test_a_page_past_the_end_is_not_found(acme_client, catalogue, monkeypatch, page):
    monkeypatch.setattr("apps.storefront.shop_views.PER_PAGE", 2)
    response = acme_client.get(f"/shop/?page={page}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?sort=cheapest", "Unknown sort"),
        ("?price_min=cheap", "is not a number"),
        ("?price_max=-5", "A price cannot be negative"),
        ("?price_min=1e400", "The amount is too large"),
        ("?price_min=NaN", "The amount must be a finite number"),
        ("?opt=Size", "An option filter is written Name:Value"),
        ("?opt=:M", "An option filter is written Name:Value"),
        ("?in_stock=maybe", "The stock filter is 1"),
        ("?collection=%00", "That is not a collection's handle"),
        ("?category=a%01b", "That is not a category's handle"),
        ("?opt=Size:%00", "An option value cannot hold control characters"),
        ("?" + "&".join(f"opt=O{n}:v" for n in range(11)), "Too many options"),
    ],
)
def test_bad_filters_answer_400_with_what_is_wrong(acme_client, catalogue, query, message):
    response = acme_client.get(f"/shop/{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert message in unescape(html)
    assert "<h1" in html and 'class="site-header"' in html  # the themed page, not a traceback
    assert response["X-Robots-Tag"] == "noindex"


def test_the_currency_is_chosen_remembered_and_formatted_per_locale(acme_client, catalogue):
    response = acme_client.get("/shop/?currency=EUR&sort=title")
    html = _html(response)
    assert response.cookies[CURRENCY_COOKIE].value == "EUR"
    assert "from €280.00" in html and "€8.50" in html
    assert "Boots" not in _titles(html)  # not sold in euros
    assert '<a href="?currency=EUR&amp;sort=title" aria-current="true">EUR</a>' in html
    # The cookie keeps it on the next page; German readers see German conventions.
    html = _html(acme_client.get("/shop/?lang=de"))
    assert f"ab 280,00{NBSP}€" in html and f"8,50{NBSP}€" in html
    assert "Alpenzelt" in _titles(html)
    assert f'href="/shop/{catalogue["tent"].handle}/?lang=de"' in html
    # An unknown currency is ignored (the cookie's stays); the default without a cookie.
    assert "€8.50" in _html(acme_client.get("/shop/?currency=GBP&lang=en"))
    acme_client.cookies.pop(CURRENCY_COOKIE)
    assert "$9.50" in _html(acme_client.get("/shop/?currency=<script>&lang=en"))


def test_the_listing_names_its_locales(acme_client, catalogue):
    html = _html(acme_client.get("/shop/?lang=de"))
    assert '<html lang="de">' in html
    assert '<link rel="canonical" href="http://acme.localhost/shop/?lang=de">' in html
    assert '<link rel="alternate" hreflang="en" href="http://acme.localhost/shop/">' in html
    assert '<link rel="alternate" hreflang="de" href="http://acme.localhost/shop/?lang=de">' in html
    assert "5 Produkte" in html and "Nur vorrätige" in html
    assert "noindex" not in html  # the unfiltered first page is the one to index


def test_no_product_of_another_tenant_is_listed(acme_client, globex_client, catalogue):
    assert "Globex secret gadget" not in _html(acme_client.get("/shop/?q=gadget"))
    assert _titles(_html(acme_client.get("/shop/?q=gadget"))) == []
    assert _titles(_html(globex_client.get("/shop/"))) == ["Globex secret gadget"]


# -- a product's page -----------------------------------------------------------------


def _json_ld(html: str) -> dict:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def test_a_product_page_shows_the_product(acme_client, catalogue):
    tent = catalogue["tent"]
    html = _html(acme_client.get(f"/shop/{tent.handle}/"))
    assert '<h1 class="product__title">Alpine tent</h1>' in html
    assert "Acme Gear" in html
    # The first variant is in stock (4 units); its price is shown.
    assert "data-price>$300.00</span>" in html
    assert "In stock" in html
    assert f'<link rel="canonical" href="http://acme.localhost/shop/{tent.handle}/">' in html
    alternates = re.findall(r'hreflang="(\w+)" href="([^"]+)"', html)
    assert alternates == [
        ("en", f"http://acme.localhost/shop/{tent.handle}/"),
        ("de", f"http://acme.localhost/shop/{tent.handle}/?lang=de"),
    ]


def test_a_product_page_in_german(acme_client, catalogue):
    tent = catalogue["tent"]
    html = _html(acme_client.get(f"/shop/{tent.handle}/?lang=de&currency=EUR"))
    assert '<html lang="de">' in html
    assert '<h1 class="product__title">Alpenzelt</h1>' in html
    assert "Ein <em>leichtes</em> Zelt." in html
    assert f"data-price>280,00{NBSP}€</span>" in html
    assert "Auf Lager" in html
    # A product without a German text: the German page shows its English text, marked as such.
    mug = _html(acme_client.get(f"/shop/{catalogue['mug'].handle}/?lang=de"))
    assert '<article class="product" lang="en">' in mug
    assert '<link rel="alternate" hreflang="de"' not in mug


@pytest.mark.parametrize("key", ["draft", "globex"])
def test_draft_and_other_tenants_products_are_not_found(acme_client, catalogue, key):
    assert acme_client.get(f"/shop/{catalogue[key].handle}/").status_code == 404


def test_unknown_and_archived_products_are_not_found(acme_client, globex_client, catalogue):
    assert acme_client.get("/shop/no-such-thing/").status_code == 404
    assert acme_client.get("/shop/bad%20handle/").status_code == 404
    assert globex_client.get(f"/shop/{catalogue['mug'].handle}/").status_code == 404
    with schema_context("acme"):
        commerce.product_transition(product_id=catalogue["mug"].pk, action="archive")
    assert acme_client.get(f"/shop/{catalogue['mug'].handle}/").status_code == 404


def test_variant_choice_offers_only_existing_combinations(acme_site, acme_client):
    with schema_context("acme"):
        shop(("USD",))
        made = product(
            "Jacket", prices={"USD": "100.00"}, variants=1,
            options={"Size": ["S", "M", "L"], "Colour": ["Red", "Blue", "Green"]},
        )  # fmt: skip
        # S/Red exists; add M/Blue and L/Red; Green is a value no variant has.
        for sku, size, colour in (("J-MB", "M", "Blue"), ("J-LR", "L", "Red")):
            variant = commerce.variant_create(
                product_id=made.pk,
                data=VariantInput(sku=sku, options={"Size": size, "Colour": colour}),
            )
            commerce.price_set(variant_id=variant.pk, currency="USD", amount=Decimal("120"))
    html = _html(acme_client.get(f"/shop/{made.handle}/"))
    selects = dict(
        re.findall(r'<select id="option-\d" data-option="(\w+)">(.*?)</select>', html, re.S)
    )
    assert re.findall(r'<option value="(\w+)"', selects["Size"]) == ["S", "M", "L"]
    assert re.findall(r'<option value="(\w+)"', selects["Colour"]) == ["Red", "Blue"]
    variants = json.loads(unescape(re.search(r'data-variants="([^"]*)"', html).group(1)))
    assert sorted(tuple(v["options"].values()) for v in variants) == [
        ("L", "Red"), ("M", "Blue"), ("S", "Red"),
    ]  # fmt: skip
    # Without scripts: a select of the existing variants, the chosen one shown.
    chosen = next(v for v in variants if v["sku"] == "J-MB")
    html = _html(acme_client.get(f"/shop/{made.handle}/?variant={chosen['id']}"))
    assert f'<option value="{chosen["id"]}" selected>M / Blue \u2013 $120.00' in html
    assert "data-price>$120.00</span>" in html
    assert "<span data-sku>J-MB</span>" in html
    # A variant id that is not this product's is ignored.
    assert _html(acme_client.get(f"/shop/{made.handle}/?variant=nonsense"))


def test_prices_compare_at_and_stock_states(acme_site, acme_client):
    with schema_context("acme"):
        shop(("USD", "EUR"))
        main = _main_location()
        made = product(
            "Lamp", prices={"USD": "10.00"}, variants=4, options={"Kind": ["A", "B", "C", "D"]}
        )
        a, b, c, d = made.variants.order_by("sku")
        commerce.price_set(
            variant_id=a.pk, currency="USD", amount=Decimal("10.00"), compare_at_amount="1200.00"
        )
        commerce.price_set(variant_id=a.pk, currency="EUR", amount=Decimal("1234.5"))
        commerce.variant_update(variant_id=a.pk, low_stock_threshold=5)
        commerce.stock_adjust(variant_id=a.pk, location_id=main.pk, delta=3, reason="received")
        commerce.stock_adjust(variant_id=b.pk, location_id=main.pk, delta=9, reason="received")
        commerce.variant_update(variant_id=c.pk, inventory_policy="continue")
    base = f"/shop/{made.handle}/"
    html = _html(acme_client.get(f"{base}?variant={a.pk}"))
    assert "data-price>$10.00</span>" in html
    assert "<s data-compare-at>$1,200.00</s>" in html
    assert "Only 3 left" in html
    html = _html(acme_client.get(f"{base}?variant={a.pk}&lang=de&currency=EUR"))
    assert f"data-price>1.234,50{NBSP}€</span>" in html
    assert "Nur noch 3 vorrätig" in html
    assert "<s data-compare-at></s>" in html  # no compare-at price in euros
    assert "data-price-missing hidden>" in html
    html = _html(acme_client.get(f"{base}?variant={b.pk}&currency=EUR&lang=en"))
    assert "data-price-missing>Not available in this currency" in html
    assert 'data-stock aria-live="polite">In stock' in html
    html = _html(acme_client.get(f"{base}?variant={c.pk}&lang=en"))
    assert 'data-stock aria-live="polite">Available to order' in html
    html = _html(acme_client.get(f"{base}?variant={d.pk}&lang=en"))
    assert 'data-stock aria-live="polite">Out of stock' in html
    # Without a choice: the first variant one can buy.
    html = _html(acme_client.get(f"{base}?lang=en"))
    assert 'data-stock aria-live="polite">Only 3 left' in html


def test_structured_data(acme_client, catalogue, media_root):
    tent = catalogue["tent"]
    with schema_context("acme"):
        commerce.product_image_add(
            product_id=tent.pk, file=png_upload(), alt_text={"en": "A tent", "de": "Ein Zelt"}
        )
    html = _html(acme_client.get(f"/shop/{tent.handle}/?currency=EUR"))
    data = _json_ld(html)
    url = f"http://acme.localhost/shop/{tent.handle}/"
    assert data["@context"] == "https://schema.org" and data["@type"] == "Product"
    assert data["name"] == "Alpine tent"
    assert data["url"] == url
    assert data["brand"] == {"@type": "Brand", "name": "Acme Gear"}
    assert len(data["image"]) == 1 and data["image"][0].startswith("http://acme.localhost/")
    offers = sorted(data["offers"], key=lambda offer: offer["sku"])
    assert [(o["price"], o["priceCurrency"], o["availability"]) for o in offers] == [
        ("280.00", "EUR", "https://schema.org/InStock"),
        ("281.00", "EUR", "https://schema.org/OutOfStock"),
        ("282.00", "EUR", "https://schema.org/OutOfStock"),
    ]
    assert all(o["sku"].startswith("S-") and o["url"].startswith(f"{url}?variant=") for o in offers)
    # The gallery: the image with its alt text in the page's language.
    assert 'alt="Ein Zelt"' in _html(acme_client.get(f"/shop/{tent.handle}/?lang=de"))


def test_structured_data_cannot_be_broken_out_of(acme_site, acme_client):
    with schema_context("acme"):
        shop(("USD",))
        made = product('</script><script>alert("x")</script> & co', prices={"USD": "5"})
    html = _html(acme_client.get(f"/shop/{made.handle}/"))
    assert "<script>alert" not in html
    assert _json_ld(html)["name"] == '</script><script>alert("x")</script> & co'


def _product_with(variants: int) -> str:
    """An active product with ``variants`` variants (sizes by colours), all in stock, priced in
    two currencies, with three images and a German text."""
    sizes = [f"S{n}" for n in range(15)]
    colours = [f"C{n}" for n in range(max(1, variants // len(sizes)))]
    with schema_context("acme"):
        shop(("USD", "EUR"))
        main = _main_location()
        made = commerce.product_create(data=ProductInput(title="Big", handle=f"big-{variants}"))
        commerce.option_create(product_id=made.pk, name="Size", values=sizes)
        commerce.option_create(product_id=made.pk, name="Colour", values=colours)
        combinations = [(size, colour) for colour in colours for size in sizes][:variants]
        for n, (size, colour) in enumerate(combinations):
            variant = commerce.variant_create(
                product_id=made.pk,
                data=VariantInput(sku=f"BIG-{n}", options={"Size": size, "Colour": colour}),
            )
            for currency, amount in (("USD", "10.00"), ("EUR", "9.00")):
                commerce.price_set(variant_id=variant.pk, currency=currency, amount=amount)
            commerce.stock_adjust(
                variant_id=variant.pk, location_id=main.pk, delta=1, reason="received"
            )
        for n in range(3):
            commerce.product_image_add(
                product_id=made.pk, file=png_upload(), alt_text={"en": f"Picture {n}"}
            )
        commerce.product_update(product_id=made.pk, translations={"de": {"title": "Groß"}})
        commerce.product_transition(product_id=made.pk, action="activate")
    return made.handle


@pytest.mark.parametrize("variants", [150, 1])
def test_a_product_page_costs_eight_queries_whatever_its_variants(
    acme_site, acme_client, media_root, django_assert_num_queries, variants
):
    """The product, its translations, variants, prices, option values and images; the stock
    of its variants; the store's settings."""
    handle = _product_with(variants)
    path = f"/shop/{handle}/?currency=EUR&lang=de"
    acme_client.get(path)  # warm: the tenant and the site's menus come from the cache
    with django_assert_num_queries(8):
        html = _html(acme_client.get(path))
    assert len(_json_ld(html)["offers"]) == variants
    assert html.count('<option value="') == (variants + 15 + 10 if variants > 1 else 0)
    assert html.count('alt="Picture ') == 3


# -- where readers find the shop ---------------------------------------------------------


def test_the_sitemap_lists_the_shop_and_its_active_products(acme_client, catalogue):
    xml = acme_client.get("/sitemap.xml").content.decode()
    locs = re.findall(r"<loc>([^<]*)</loc>", xml)
    base = "http://acme.localhost/shop/"
    assert base in locs and f"{base}?lang=de" in locs
    tent, mug = catalogue["tent"].handle, catalogue["mug"].handle
    # The tent has a German text, the mug only its own (English) one.
    assert f"{base}{tent}/" in locs and f"{base}{tent}/?lang=de" in locs
    assert f"{base}{mug}/" in locs and f"{base}{mug}/?lang=de" not in locs
    assert f"{base}{catalogue['draft'].handle}/" not in locs
    assert f"{base}{catalogue['globex'].handle}/" not in locs
    assert xml.count(f'hreflang="de" href="{base}{tent}/?lang=de"') == 2


def test_the_home_page_links_the_shop(acme_client, catalogue):
    from tests.index.support import post, project

    with schema_context("acme"):
        post("Hello", "A post.")
    project("acme")
    assert 'href="/shop/?lang=de"' in _html(acme_client.get("/?lang=de"))
