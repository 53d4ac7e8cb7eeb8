"""The storefront's page cache: purged by the relay when what a page shows changes, never a
visitor's cart, name or CSRF token in another's page, never another tenant's page, and with
Redis away the pages rendered as before."""

from __future__ import annotations

import contextlib
import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseNotFound, HttpResponsePermanentRedirect
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.commerce import services as commerce
from apps.content import services as content
from apps.core.breakers import REDIS, breaker
from apps.core.generations import current
from apps.events import relay
from apps.events.schema import known_event_types
from apps.pages.services import MenuItemInput, menu_set_items
from apps.storefront import page_cache, personal
from tests.conftest import tenant_client
from tests.index.shop import first_variant, product, project_products, shop, wipe_commerce
from tests.index.support import committed_content, forget_tenants  # noqa: F401
from tests.pages.support import make_menu, make_page, make_post

NBSP = "\xa0"


@pytest.fixture
def page_cache_on(settings):
    settings.STOREFRONT_PAGE_CACHE_SECONDS = 300


def _html(response) -> str:
    assert response.status_code == 200, response.content[:300]
    return unescape(response.content.decode()).replace(NBSP, " ")


def _served_from_cache(client: Client, path: str, django_assert_num_queries, **extra) -> str:
    """``path`` for an anonymous visitor, asserted to come from the cache: no query at all
    (the tenant, its modules and the generations are read from caches, the page too)."""
    with django_assert_num_queries(0):
        response = client.get(path, **extra)
    return _html(response)


def _queries(client: Client, path: str) -> int:
    """The queries of one request for ``path`` (a page from the cache costs none)."""
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return len(queries)


# -- what purges ------------------------------------------------------------------------------


def test_every_event_type_is_either_purging_or_declared_not_shown():
    """A new event type must be classified: one that no list names would never purge."""
    platform = [t for t in known_event_types() if not t.startswith("testing.")]
    unclassified = [
        t
        for t in platform
        if not page_cache.families_of(t) and not t.startswith(page_cache.NOT_SHOWN)
    ]
    assert unclassified == []
    assert set(page_cache.families_of("commerce.inventory.sold")) == {page_cache.SHOP}
    assert page_cache.families_of("pages.menu.updated") == [page_cache.SITE]
    assert page_cache.families_of("commerce.order.placed") == []


def test_a_published_post_and_an_edit_reach_the_cached_pages_once_relayed(
    committed_content,  # noqa: F811
    page_cache_on,
):
    client = tenant_client("acme")
    first = make_post("First news")
    relay.drain()
    assert "First news" in _html(client.get("/blog/"))
    assert "Second news" not in _html(client.get("/"))  # home and blog index now cached
    make_post("Second news")
    relay.drain()  # the listing projection, then the purge, in one transaction
    assert "Second news" in _html(client.get("/"))
    assert "Second news" in _html(client.get("/blog/"))
    assert "First news" in _html(client.get("/blog/first-news/"))
    with schema_context("acme"):
        content.translation_upsert(
            node_id=first.pk,
            data=content.TranslationInput(
                locale="en", title="First news, corrected", slug="first-news"
            ),
        )
    relay.drain()
    assert "First news, corrected" in _html(client.get("/blog/first-news/"))
    assert "First news, corrected" in _html(client.get("/blog/"))


def test_a_menu_change_reaches_every_cached_page(committed_content, page_cache_on):  # noqa: F811
    client = tenant_client("acme")
    make_post("Post")
    menu = make_menu("header", [MenuItemInput(label={"en": "Our blog"}, url="/blog/")])
    relay.drain()
    try:
        for path in ("/", "/blog/", "/blog/post/"):
            assert "Our blog" in _html(client.get(path))
        with schema_context("acme"):
            menu_set_items(
                menu_id=menu, items=[MenuItemInput(label={"en": "Read the news"}, url="/blog/")]
            )
        relay.drain()
        for path in ("/", "/blog/", "/blog/post/"):
            page = _html(client.get(path))
            assert "Read the news" in page and "Our blog" not in page
    finally:
        with schema_context("acme"), connection.cursor() as cursor:
            cursor.execute("TRUNCATE pages_menu CASCADE")


def test_a_page_by_path_is_cached_and_purged_by_its_edit(
    committed_content,  # noqa: F811
    page_cache_on,
    django_assert_num_queries,
):
    client = tenant_client("acme")
    page = make_page(en=("About us", "about"))
    relay.drain()
    assert "About us" in _html(client.get("/about/"))
    assert "About us" in _served_from_cache(client, "/about/", django_assert_num_queries)
    with schema_context("acme"):
        content.translation_upsert(
            node_id=page.pk,
            data=content.TranslationInput(locale="en", title="About the team", slug="about"),
        )
    relay.drain()
    assert "About the team" in _html(client.get("/about/"))


@pytest.mark.parametrize(
    ("answer", "stored"),
    [
        (lambda: HttpResponse("<p>page</p>"), True),
        (lambda: HttpResponsePermanentRedirect("/elsewhere/"), False),
        (lambda: HttpResponseNotFound("<p>gone</p>"), False),
        (lambda: HttpResponse("<p>mine</p>", headers={"Cache-Control": "private"}), False),
        (lambda: _with_cookie(HttpResponse("<p>set</p>")), False),
    ],
    ids=["page", "redirect", "not found", "private", "sets a cookie"],
)
def test_only_a_plain_page_is_stored(acme, page_cache_on, answer, stored):
    """A redirect, an error or a response for one reader is answered by the view each time."""
    runs = []

    @page_cache.cached_page(shows=(page_cache.SITE,), params=())
    def view(request):
        runs.append(request.path)
        return answer()

    path = f"/cache-probe/{len(runs)}-{id(answer)}/"
    for _ in range(2):
        request = RequestFactory().get(path, HTTP_HOST="acme.localhost")
        request.tenant = acme
        response = view(request)
    assert response.status_code == answer().status_code
    assert len(runs) == (1 if stored else 2)


def _with_cookie(response: HttpResponse) -> HttpResponse:
    response.set_cookie("seen", "1")
    return response


def test_a_rolled_back_change_purges_nothing_and_shows_nothing(
    committed_content,  # noqa: F811
    page_cache_on,
    django_assert_num_queries,
):
    client = tenant_client("acme")
    make_post("Kept")
    relay.drain()
    _html(client.get("/blog/"))
    before = current([page_cache.SITE, page_cache.SHOP])
    with pytest.raises(RuntimeError), transaction.atomic(), schema_context("acme"):
        make_post("Never happened")
        raise RuntimeError("the editor's request failed")
    relay.drain()
    assert current([page_cache.SITE, page_cache.SHOP]) == before
    page = _served_from_cache(client, "/blog/", django_assert_num_queries)
    assert "Kept" in page and "Never happened" not in page


@pytest.fixture
def committed_catalog(live_db):
    """A product on sale in acme, committed (the relay runs): wiped at the end."""
    wipe_commerce()
    forget_tenants()
    with schema_context("acme"):
        shop(("USD", "EUR"))
        location = commerce.location_create(code="main", name="Main")
        made = product("Alpine tent", prices={"USD": "300.00", "EUR": "280.00"})
        commerce.stock_adjust(
            variant_id=first_variant(made).pk, location_id=location.pk, delta=5, reason="received"
        )
    relay.drain()
    yield made, location
    connection.set_schema_to_public()
    wipe_commerce()
    forget_tenants()


def test_an_edited_product_and_its_stock_reach_the_cached_shop_once_relayed(
    committed_catalog, page_cache_on
):
    made, location = committed_catalog
    client = tenant_client("acme")
    path = f"/shop/{made.handle}/"
    assert "Alpine tent" in _html(client.get(path))
    assert "Alpine tent" in _html(client.get("/shop/"))
    with schema_context("acme"):
        commerce.product_update(product_id=made.pk, fields={"title": "Alpine tent XL"})
    assert "Alpine tent XL" not in _html(client.get(path))  # committed, not relayed yet
    relay.drain()
    assert "Alpine tent XL" in _html(client.get(path))
    assert "Alpine tent XL" in _html(client.get("/shop/"))
    assert "Only 2 left" not in _html(client.get(path))
    with schema_context("acme"):
        variant = first_variant(made)
        commerce.variant_update(variant_id=variant.pk, low_stock_threshold=3)
        commerce.stock_adjust(
            variant_id=variant.pk, location_id=location.pk, delta=-3, reason="correction"
        )
    relay.drain()
    assert "Only 2 left" in _html(client.get(path))
    # The currency cookie is in the key: euros for the reader who chose them.
    assert "€280.00" in _html(client.get(path + "?currency=EUR"))
    assert "€280.00" in _html(client.get(path))  # the reader's cookie now says euros
    assert "$300.00" in _html(tenant_client("acme").get(path))


# -- nothing personal in a cached page ----------------------------------------------------------


@pytest.fixture
def store(acme_site):
    with schema_context("acme"):
        shop(("USD",))
        location = commerce.location_create(code="main", name="Main")
        made = product("Mug", prices={"USD": "12.00"})
        commerce.stock_adjust(
            variant_id=first_variant(made).pk, location_id=location.pk, delta=9, reason="received"
        )
    project_products("acme")
    return made


def _customer(name: str = "Kim"):
    with schema_context("acme"):
        return get_user_model().objects.create_user(
            username=f"{name.lower()}@example.test", password="x-123456789", first_name=name
        )


def _shopper_with_cart(made, name: str = "Kim") -> Client:
    client = tenant_client("acme")
    with schema_context("acme"):
        client.force_login(_customer(name))
        variant = first_variant(made)
    response = client.post("/cart/add/", {"variant": str(variant.pk), "quantity": "3"})
    assert response.status_code == 302
    return client


def _mini_cart_count(page: str) -> str | None:
    found = re.search(r'class="mini-cart__count">(\d+)<', page)
    return found.group(1) if found else None


@pytest.mark.parametrize("customer_first", [True, False])
def test_a_customers_cart_and_name_never_reach_another_visitor(
    store, page_cache_on, customer_first, django_assert_num_queries
):
    path = f"/shop/{store.handle}/"
    customer = _shopper_with_cart(store)
    anonymous = tenant_client("acme")
    visits = [customer, anonymous] if customer_first else [anonymous, customer]
    pages = {id(client): _html(client.get(path)) for client in visits}
    mine, theirs = pages[id(customer)], pages[id(anonymous)]
    assert "Kim" in mine and _mini_cart_count(mine) == "3"
    assert "Kim" not in theirs and _mini_cart_count(theirs) is None and "Log in" in theirs
    assert "Log in" not in mine
    # Both were one shell: a second anonymous visitor gets it from the cache, no query.
    again = _served_from_cache(tenant_client("acme"), path, django_assert_num_queries)
    assert "Kim" not in again and _mini_cart_count(again) is None
    assert personal.placeholder("") not in again and personal.placeholder("") not in mine


def test_a_logged_in_customer_is_served_from_the_cache_too(
    store, page_cache_on, django_assert_num_queries
):
    """Their session, their user and profile (the name), their cart's count: the page itself
    costs nothing."""
    path = f"/shop/{store.handle}/"
    customer = _shopper_with_cart(store)
    tenant_client("acme").get(path)  # an anonymous visitor stored the page
    with django_assert_num_queries(4):
        page = _html(customer.get(path))
    assert "Kim" in page and _mini_cart_count(page) == "3"


def test_each_visitor_gets_their_own_valid_csrf_token_from_a_cached_page(store, page_cache_on):
    path = f"/shop/{store.handle}/"
    with schema_context("acme"):
        variant = first_variant(store)
    tokens = []
    for _ in range(3):
        client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
        response = client.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', _html(response))[1]
        assert "csrftoken" in response.cookies  # the form needs its cookie, as without a cache
        tokens.append(token)
        added = client.post(
            "/cart/add/",
            {"variant": str(variant.pk), "quantity": "1", "csrfmiddlewaretoken": token},
        )
        assert added.status_code == 302
    assert len(set(tokens)) == 3


def test_another_tenant_never_gets_this_tenants_cached_page(
    acme_site, globex_site, page_cache_on, django_assert_num_queries
):
    acme, globex = tenant_client("acme"), tenant_client("globex")
    assert "Welcome to Acme Test" in _html(acme.get("/"))
    page = _html(globex.get("/"))
    assert "Welcome to Globex Test" in page and "Acme" not in page
    again = _served_from_cache(tenant_client("acme"), "/", django_assert_num_queries)
    assert "Welcome to Acme Test" in again


# -- what it costs, and what is never cached ------------------------------------------------------


@pytest.mark.parametrize("products", [2, 30])
def test_a_warm_shop_page_costs_no_query_against_four_without_the_cache(
    acme_site, page_cache_on, django_assert_num_queries, products, settings
):
    with schema_context("acme"):
        shop(("USD", "EUR"))
        made = [
            product(f"Thing {n}", prices={"USD": "5.00", "EUR": "4.00"}) for n in range(products)
        ]
    project_products("acme")
    client = tenant_client("acme")
    path = "/shop/?sort=price_asc&currency=EUR"
    client.get(path)  # the currency cookie is set: this answer is not stored
    first = _html(client.get(path))  # cookie and parameter agree: stored
    assert first.count('class="product-card__title"') == min(products, 24)
    with django_assert_num_queries(0):
        assert _html(client.get(path)) == first
    product_path = f"/shop/{made[1].handle}/?currency=EUR"
    assert "Thing 1" in _html(client.get(product_path))
    assert "Thing 1" in _served_from_cache(client, product_path, django_assert_num_queries)
    settings.STOREFRONT_PAGE_CACHE_SECONDS = 0
    # The listing's own budget (test_shop_queries), less the images these products lack.
    with django_assert_num_queries(3):
        assert _html(client.get(path)) == first


@pytest.mark.parametrize(
    "path",
    [
        "/blog/?preview=1",  # a parameter the view does not list
        "/shop/?q=mug",  # a search
        "/blog/?utm_source=mail",
        "/shop/?" + "sort=title&" * 60,  # too long
    ],
)
def test_a_request_off_the_views_parameters_is_rendered_and_not_stored(
    acme_site, page_cache_on, path
):
    client = tenant_client("acme")
    client.get(path)
    assert _queries(client, path) > 0


def test_errors_and_cookies_are_not_stored(store, page_cache_on):
    client = tenant_client("acme")
    assert client.get("/shop/no-such-thing/").status_code == 404
    assert _queries(client, "/shop/no-such-thing/") > 0
    # ?currency= with no cookie yet sets the cookie: that answer is rendered each time.
    for _ in range(2):
        fresh = tenant_client("acme")
        response = fresh.get(f"/shop/{store.handle}/?currency=USD")
        assert response.cookies["currency"].value == "USD"


def test_a_cached_answer_has_the_headers_of_a_rendered_one(store, page_cache_on):
    client = tenant_client("acme")
    path = f"/shop/{store.handle}/"
    rendered, cached = client.get(path), client.get(path)
    for name in ("Content-Type", "Content-Language", "Vary", "Content-Security-Policy",
                 "X-Frame-Options", "Referrer-Policy", "Cache-Control"):  # fmt: skip
        assert rendered.get(name) == cached.get(name), name
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub(b"", rendered.content) == token.sub(b"", cached.content)
    assert "nonce" not in (cached.get("Content-Security-Policy") or "")


def test_with_redis_away_pages_are_rendered_as_without_the_cache(store, page_cache_on, settings):
    away = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": away},
        "pages": {**settings.CACHES["pages"], "LOCATION": away},
    }
    client = tenant_client("acme")
    try:
        for _ in range(5):  # failures, then the breaker open: never a 500
            page = _html(client.get(f"/shop/{store.handle}/"))
            assert "Mug" in page and personal.placeholder("") not in page
        assert breaker(REDIS).current_state == "open"
    finally:
        breaker(REDIS).close()


def test_a_new_release_never_reads_the_pages_of_the_one_before(
    acme_site, page_cache_on, monkeypatch, django_assert_num_queries
):
    """Another release (code, templates, static files, the placeholders' secret) has keys of
    its own: during a rolling deploy neither serves the other's HTML."""
    client = tenant_client("acme")
    client.get("/blog/")
    _served_from_cache(client, "/blog/", django_assert_num_queries)
    monkeypatch.setattr(page_cache, "release", lambda: "another-release")
    assert _queries(client, "/blog/") > 0  # rendered: its listing read again


def test_a_batch_of_events_bumps_each_generation_once_now_and_once_on_commit(live_db):
    """The relay hands a tenant's batch to its handlers in one transaction: one bump serves
    it, and a savepoint rolled back takes its queued bump with it."""

    def queued() -> int:
        return sum(
            type(func).__name__ == "_CommitBump" for _s, func, _r in connection.run_on_commit
        )

    with schema_context("acme"):
        with transaction.atomic():
            page_cache.purge("content.node.published")
            first = current([page_cache.SITE])
            page_cache.purge("content.node.updated")
            page_cache.purge("pages.menu.updated")
            assert current([page_cache.SITE]) == first
            page_cache.purge("commerce.inventory.sold")
            assert queued() == 2  # site and shop, once each
        assert current([page_cache.SITE]) != first  # and again on commit
        with transaction.atomic():
            with contextlib.suppress(RuntimeError), transaction.atomic():
                page_cache.purge("content.node.published")
                raise RuntimeError("a handler failed")
            assert queued() == 0
            page_cache.purge("content.node.published")
            assert queued() == 1
