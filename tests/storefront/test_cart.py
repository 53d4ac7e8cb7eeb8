"""The cart's pages: add from a product's page, update, remove, the flags of lines one cannot
buy, the header's mini-cart, query budgets, bad input and tenant isolation."""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from apps.commerce import carts, selectors
from apps.commerce import services as commerce
from apps.commerce.models import Cart
from apps.storefront.cart_views import SESSION_KEY
from tests.conftest import tenant_client
from tests.index.shop import first_variant, product, shop

NBSP = "\xa0"


@pytest.fixture
def store(acme_site):
    """acme selling in USD and EUR, with a location holding stock."""
    with schema_context("acme"):
        shop(("USD", "EUR"))
        return commerce.location_create(code="main", name="Main")


def _on_sale(location, title: str, *, stock: int = 5, **kwargs):
    with schema_context("acme"):
        made = product(title, **kwargs)
        variant = first_variant(made)
        if stock:
            commerce.stock_adjust(
                variant_id=variant.pk, location_id=location.pk, delta=stock, reason="received"
            )
        return made, variant


def _html(response) -> str:
    assert response.status_code == 200, response.content[:400]
    return unescape(response.content.decode()).replace(NBSP, " ")


def _add(client: Client, variant, quantity="1", *, query: str = "", **extra):
    data = {"variant": str(variant.pk), "quantity": quantity, **extra}
    return client.post(f"/cart/add/{query}", data)


def _cart_lines(client: Client) -> dict[str, int]:
    """The session's cart as {sku: quantity}, read through the selectors."""
    with schema_context("acme"):
        token = client.session.get(SESSION_KEY)
        cart = carts.cart_for(
            token=token, customer_id=None, currency="USD", locale="en", create=False
        )
        if cart is None:
            return {}
        view = selectors.cart_view(cart.pk, currency=cart.currency, locale="en")
    return {line.sku: line.quantity for line in view.lines}


def _session_cart(client: Client, schema: str = "acme"):
    """A cart whose token the client's session holds (made through the services)."""
    with schema_context(schema):
        cart = carts.cart_for(
            token=None, customer_id=None, currency="USD", locale="en", create=True
        )
        session = client.session
        session[SESSION_KEY] = str(cart.token)
        session.save()
    client.cookies["sessionid"] = session.session_key
    return cart


# -- adding from the product page ------------------------------------------------------------


def test_the_product_page_posts_the_chosen_variant_to_the_cart(acme_client, store):
    made, _variant = _on_sale(store, "Alpine tent", variants=3, options={"Size": ["S", "M", "L"]})
    with schema_context("acme"):
        medium = made.variants.get(sku__endswith="-1")
    html = _html(acme_client.get(f"/shop/{made.handle}/?variant={medium.pk}"))
    form = re.search(
        r'<form class="add-to-cart" method="post" action="/cart/add/">(.*?)</form>', html, re.S
    )
    assert form is not None
    assert 'name="csrfmiddlewaretoken"' in form.group(1)
    assert f'name="variant" value="{medium.pk}"' in form.group(1)
    assert 'name="quantity"' in form.group(1)


def test_adding_redirects_to_the_cart_with_a_message(acme_client, store):
    made, variant = _on_sale(store, "Alpine tent", prices={"USD": "300.00"})
    response = _add(acme_client, variant, "2", next=f"/shop/{made.handle}/")
    assert response.status_code == 302 and response["Location"] == "/cart/"
    html = _html(acme_client.get("/cart/"))
    assert "Added 2 items to your cart (2 in all)." in html
    assert "Alpine tent" in html and "$300.00" in html and "$600.00" in html
    assert 'href="/checkout/"' in html
    assert '<meta name="robots" content="noindex">' in html
    assert _cart_lines(acme_client) == {variant.sku: 2}
    _add(acme_client, variant, "1")
    assert _cart_lines(acme_client) == {variant.sku: 3}


def test_a_signed_in_shoppers_cart_is_theirs(acme_client, store):
    _made, variant = _on_sale(store, "Mug")
    with schema_context("acme"):
        user = get_user_model().objects.create_user(
            username="kim@example.test", password="x-123456789"
        )
        acme_client.force_login(user)
    assert _add(acme_client, variant, "1").status_code == 302
    with schema_context("acme"):
        cart = carts.cart_for(
            token=None, customer_id=user.pk, currency="USD", locale="en", create=False
        )
        assert [
            line.sku for line in selectors.cart_view(cart.pk, currency="USD", locale="en").lines
        ] == [variant.sku]
    assert SESSION_KEY not in acme_client.session


def test_adding_in_another_currency_moves_the_cart_to_it(acme_client, store):
    _made, variant = _on_sale(store, "Cap", prices={"USD": "15.00", "EUR": "14.00"})
    _add(acme_client, variant)
    acme_client.cookies["currency"] = "EUR"
    _add(acme_client, variant)
    html = _html(acme_client.get("/cart/"))
    assert "€28.00" in html and "$" not in re.search(r"data-subtotal>([^<]*)<", html).group(1)


# -- updating and removing --------------------------------------------------------------------


def test_update_and_remove(acme_client, store):
    _made, variant = _on_sale(store, "Boots")
    _other, second = _on_sale(store, "Socks")
    _add(acme_client, variant)
    _add(acme_client, second)
    html = _html(acme_client.get("/cart/"))
    line_id = re.search(r'name="line" value="(\d+)"', html).group(1)
    response = acme_client.post("/cart/update/", {"line": line_id, "quantity": "4"})
    assert response.status_code == 302
    assert "Quantity updated." in _html(acme_client.get("/cart/"))
    assert _cart_lines(acme_client) == {variant.sku: 4, second.sku: 1}
    acme_client.post("/cart/remove/", {"variant": str(second.pk)})
    assert "Removed from your cart." in _html(acme_client.get("/cart/"))
    acme_client.post("/cart/update/", {"line": line_id, "quantity": "0"})
    assert _cart_lines(acme_client) == {}
    assert "Your cart is empty." in _html(acme_client.get("/cart/"))


def test_lines_one_cannot_buy_are_flagged_and_block_the_checkout(acme_client, store):
    archived, gone = _on_sale(store, "Old lamp")
    _fine, fine = _on_sale(store, "Mug", stock=9)
    _scarce, scarce = _on_sale(store, "Rare print", stock=3)
    for variant, quantity in [(gone, "1"), (fine, "1"), (scarce, "3")]:
        assert _add(acme_client, variant, quantity).status_code == 302
    with schema_context("acme"):
        commerce.product_transition(product_id=archived.pk, action="archive")
        commerce.stock_adjust(variant_id=scarce.pk, location_id=store.pk, delta=-2, reason="sold")
    html = _html(acme_client.get("/cart/"))
    assert "This product is no longer on sale." in html
    assert "Only 1 left: lower the quantity." in html
    assert html.count("cart-line--flagged") == 2
    assert 'href="/checkout/"' not in html
    assert re.search(
        r'<button class="button" type="button" disabled[^>]*>Proceed to checkout</button>', html
    )
    assert "change or remove the marked lines" in html
    # The subtotal counts only what can be bought: the mug.
    assert re.search(r"data-subtotal>\$10\.00<", html)


def test_the_cart_and_the_add_button_in_german(acme_client, store):
    made, variant = _on_sale(store, "Mug")
    assert "In den Warenkorb" in _html(acme_client.get(f"/shop/{made.handle}/?lang=de"))
    response = _add(acme_client, variant, "2", query="?lang=de")
    assert response["Location"] == "/cart/?lang=de"
    html = _html(acme_client.get(response["Location"]))
    assert "Ihr Warenkorb" in html and "Zwischensumme" in html and "Zur Kasse" in html
    assert "20,00 $" in html
    assert "2 Artikel in den Warenkorb gelegt (insgesamt 2)." in html


# -- the mini-cart ----------------------------------------------------------------------------


def test_the_header_counts_the_items_in_the_cart(acme_client, store, django_assert_num_queries):
    _made, variant = _on_sale(store, "Mug")
    _other, second = _on_sale(store, "Cap")
    html = _html(acme_client.get("/cart/"))
    assert 'class="mini-cart"' in html and "mini-cart__count" not in html
    _add(acme_client, variant, "2")
    _add(acme_client, second, "1")
    html = _html(acme_client.get("/shop/"))
    assert re.search(r'class="mini-cart__count">3<', html)


def test_the_mini_cart_costs_no_query_without_a_cart(acme_client, store, django_assert_num_queries):
    """The search page (no shop data) with and without a cart: the mini-cart adds one query."""
    acme_client.get("/search/")
    with django_assert_num_queries(0) as without:
        acme_client.get("/search/")
    _session_cart(acme_client)
    acme_client.get("/search/")
    with django_assert_num_queries(2) as with_cart:  # the session, then the cart's count
        html = acme_client.get("/search/").content.decode()
    assert 'class="mini-cart"' in html
    assert len(with_cart.captured_queries) == len(without.captured_queries) + 2
    assert "commerce_cartline" in with_cart.captured_queries[-1]["sql"]


# -- query budgets ----------------------------------------------------------------------------


@pytest.mark.parametrize("lines", [1, 30])
def test_the_cart_page_costs_the_same_queries_whatever_its_size(
    acme_client, store, media_root, django_assert_num_queries, lines
):
    """The session, the cart, its lines (one query); the mini-cart takes the page's count."""
    from tests.pages.support import png_upload

    cart = _session_cart(acme_client)
    with schema_context("acme"):
        for number in range(lines):
            made = product(f"Item {number}", variants=2, options={"Size": ["S", "M"]})
            variant = first_variant(made)
            commerce.stock_adjust(
                variant_id=variant.pk, location_id=store.pk, delta=5, reason="received"
            )
            commerce.product_image_add(product_id=made.pk, file=png_upload(), alt_text={"en": "x"})
            carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=2)
    acme_client.get("/cart/")
    with django_assert_num_queries(3):
        response = acme_client.get("/cart/")
    html = _html(response)
    assert html.count('class="cart-line"') == lines
    assert html.count('<img src="/media/') == lines
    assert html.count("S / ") == 0 and html.count(">S</span>") == lines


@pytest.mark.parametrize("lines", [1, 20])
def test_adding_to_the_cart_costs_ten_queries_whatever_its_size(
    acme_client, store, django_assert_num_queries, lines
):
    variants = [_on_sale(store, f"Item {number}")[1] for number in range(lines + 1)]
    *before, added = variants
    for variant in before:
        _add(acme_client, variant)  # the cart and the session exist
    # the session, the visitor's cart; then in a savepoint: the cart locked, the variant, the
    # cart's lines (one query), the variant's available stock, the line written, the cart's version.
    with django_assert_num_queries(10):
        response = _add(acme_client, added)
    assert response.status_code == 302
    assert _cart_lines(acme_client) == {variant.sku: 1 for variant in variants}


def test_the_first_add_creates_the_cart_and_the_session_in_thirteen_queries(
    acme_client, store, django_assert_num_queries
):
    """More than a later add (ten) with the session made here, fewer without it."""
    _made, variant = _on_sale(store, "Mug")
    _add(tenant_client("acme"), variant)  # another visitor warms the process's caches
    # the store's settings, read for the reader's currency and again by the service; in one
    # savepoint: the variant, the cart, the due work that prunes stale carts, the available
    # stock, the line; then the new session checked for and written, in a savepoint.
    with django_assert_num_queries(13):
        response = _add(acme_client, variant)
    assert response.status_code == 302
    assert _cart_lines(acme_client) == {variant.sku: 1}


def test_a_refused_first_item_leaves_no_empty_cart(acme_client, store):
    _made, variant = _on_sale(store, "Mug")
    assert _add(acme_client, variant, "6").status_code == 409  # 5 in stock
    with schema_context("acme"):
        assert not Cart.objects.exists()
    assert _add(acme_client, variant).status_code == 302
    assert _cart_lines(acme_client) == {variant.sku: 1}


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "quantity", "status"),
    [
        (None, "abc", 400),
        (None, "-1", 400),
        (None, str(10**9), 400),
        (None, "0", 400),
        (None, "100", 400),
        ("not-a-uuid", "1", 404),
        (str(uuid.uuid4()), "1", 404),
        (None, "6", 409),
    ],
)
def test_bad_input_to_add_gets_a_themed_4xx_page(acme_client, store, variant, quantity, status):
    _made, on_sale = _on_sale(store, "Mug", stock=5)
    response = acme_client.post(
        "/cart/add/", {"variant": variant or str(on_sale.pk), "quantity": quantity}
    )
    assert response.status_code == status
    html = response.content.decode()
    assert "Your cart was not changed" in html and 'href="/cart/"' in html
    assert response["X-Robots-Tag"] == "noindex"
    if status == 409:
        assert "Only 5 left." in html
    assert _cart_lines(acme_client) == {}


def test_a_product_not_on_sale_or_not_priced_cannot_be_added(acme_client, store):
    _draft, hidden = _on_sale(store, "Hidden lamp", activate=False)
    assert _add(acme_client, hidden).status_code == 409
    _usd, usd_only = _on_sale(store, "Boots", prices={"USD": "120.00"})
    acme_client.cookies["currency"] = "EUR"
    response = _add(acme_client, usd_only)
    assert response.status_code == 409 and "EUR" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "data", "status"),
    [
        ("/cart/update/", {"line": "1", "quantity": "2"}, 404),  # no cart
        ("/cart/remove/", {"variant": str(uuid.uuid4())}, 404),
    ],
)
def test_changing_a_cart_one_does_not_have_is_404(acme_client, store, path, data, status):
    assert acme_client.post(path, data).status_code == status


def test_update_with_bad_values(acme_client, store):
    _made, variant = _on_sale(store, "Mug", stock=3)
    _add(acme_client, variant)
    html = _html(acme_client.get("/cart/"))
    line_id = re.search(r'name="line" value="(\d+)"', html).group(1)
    assert (
        acme_client.post("/cart/update/", {"line": line_id, "quantity": "abc"}).status_code == 400
    )
    assert acme_client.post("/cart/update/", {"line": "x", "quantity": "1"}).status_code == 404
    assert acme_client.post("/cart/update/", {"line": "999999", "quantity": "1"}).status_code == 404
    response = acme_client.post("/cart/update/", {"line": line_id, "quantity": "4"})
    assert response.status_code == 409 and "Only 3 left." in response.content.decode()
    assert acme_client.post("/cart/remove/", {"variant": "nope"}).status_code == 404
    assert acme_client.get("/cart/add/").status_code == 405
    assert _cart_lines(acme_client) == {variant.sku: 1}


def test_the_forms_need_the_csrf_token(store):
    _made, variant = _on_sale(store, "Mug")
    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    assert _add(client, variant).status_code == 403
    assert client.post("/cart/remove/", {"variant": str(variant.pk)}).status_code == 403
    assert client.post("/cart/update/", {"line": "1", "quantity": "1"}).status_code == 403


# -- tenants ----------------------------------------------------------------------------------


def test_an_acme_cart_token_on_globex_shows_an_empty_cart(acme_client, globex_site, store):
    _made, variant = _on_sale(store, "Acme secret mug")
    _add(acme_client, variant, "2")
    with schema_context("acme"):
        token = acme_client.session[SESSION_KEY]
    with schema_context("globex"):
        shop(("USD",))
    globex = tenant_client("globex")
    with schema_context("globex"):
        session = globex.session
        session[SESSION_KEY] = token
        session.save()
    globex.cookies["sessionid"] = session.session_key
    html = _html(globex.get("/cart/"))
    assert "Your cart is empty." in html
    assert "Acme secret mug" not in html and "mini-cart__count" not in html
    # Nor can it change the acme cart from there.
    assert globex.post("/cart/remove/", {"variant": str(variant.pk)}).status_code == 404
    assert _cart_lines(acme_client) == {variant.sku: 2}
