"""The storefront's customer accounts: sign-up, login (no enumeration, rate limits, safe
``next``), logout, password reset on the tenant's host, the account page (queries counted)
and the address book, tenant isolation, and a customer's email never shown to the public."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from apps.people import selectors, services
from tests.conftest import tenant_client

PASSWORD = "plum-orchard-42"
EMAIL = "ada@example.test"
BERLIN = {"name": "Ada K", "street": "Unter den Linden 1", "postal_code": "10117",
          "city": "Berlin", "country": "DE"}  # fmt: skip

pytestmark = pytest.mark.usefixtures("acme_site", "globex_site")


def customer(schema="acme", email=EMAIL, name="Ada Lovelace"):
    with schema_context(schema):
        return services.customer_sign_up(email=email, password=PASSWORD, display_name=name)


def client(schema="acme", **extra) -> Client:
    made = tenant_client(schema)
    made.defaults.update(extra)
    return made


def logged_in(schema="acme", email=EMAIL) -> Client:
    made = client(schema)
    response = made.post("/account/login/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return made


def text(response) -> str:
    return unescape(response.content.decode())


# -- sign-up, login, logout -----------------------------------------------------------------


def test_sign_up_logs_the_new_customer_in_and_the_header_shows_their_display_name():
    visitor = client()
    page = visitor.get("/account/signup/")
    assert page.status_code == 200 and 'name="csrfmiddlewaretoken"' in page.content.decode()
    response = visitor.post(
        "/account/signup/",
        {"display_name": "Ada L", "email": "Ada@Example.test", "password": PASSWORD,
         "password_again": PASSWORD},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/account/"
    home = visitor.get("/")
    assert home.status_code == 200
    assert '<a href="/account/">Ada L</a>' in home.content.decode()
    assert "ada@example.test" not in home.content.decode().lower()
    with schema_context("acme"):
        user = get_user_model().objects.get(username="ada@example.test")
        assert not user.is_staff


def test_a_sign_up_with_a_taken_email_or_a_weak_password_shows_the_fields_errors():
    customer()
    response = client().post(
        "/account/signup/",
        {"display_name": "X", "email": EMAIL.upper(), "password": "123", "password_again": "124"},
    )
    assert response.status_code == 400
    errors = re.findall(r'class="account-field__error">([^<]*)<', text(response))
    assert any("two passwords differ" in e for e in errors)
    response = client().post(
        "/account/signup/",
        {"display_name": "X", "email": EMAIL.upper(), "password": PASSWORD,
         "password_again": PASSWORD},
    )  # fmt: skip
    assert response.status_code == 400 and "An account with this email exists" in text(response)


def test_login_rotates_the_session_and_logout_ends_it():
    customer()
    visitor = client()
    visitor.get("/account/login/")
    visitor.session.save()
    before = visitor.session.session_key
    response = visitor.post("/account/login/", {"email": " ADA@example.test", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert visitor.session.session_key != before
    assert visitor.get("/account/").status_code == 200
    assert visitor.get("/account/logout/").status_code == 405  # only POST logs out
    assert visitor.post("/account/logout/").status_code == 302
    assert visitor.get("/account/").status_code == 302


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer():
    customer()
    wrong = client().post("/account/login/", {"email": EMAIL, "password": "nope-nope-nope"})
    unknown = client().post("/account/login/", {"email": "eve@example.test", "password": "x"})
    assert wrong.status_code == unknown.status_code == 400
    assert "The email or the password is not right." in text(wrong)

    def alert(response) -> str:
        return re.search(r'class="account__alert" role="alert">(.*?)</div>', text(response), re.S)[
            1
        ]

    assert alert(wrong) == alert(unknown)


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/shop/?q=tent", "/shop/?q=tent"),
        ("https://evil.example/", "/account/"),
        ("//evil.example/", "/account/"),
        ("http://acme.localhost/blog/", "http://acme.localhost/blog/"),
        ("http://globex.localhost/", "/account/"),
        ("javascript:alert(1)", "/account/"),
    ],
)
def test_next_is_followed_only_on_this_host(asked, lands):
    customer()
    response = client().post(
        "/account/login/", {"email": EMAIL, "password": PASSWORD, "next": asked}
    )
    assert response.status_code == 302 and response["Location"] == lands


def test_forms_need_the_csrf_token():
    customer()
    strict = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    assert strict.post("/account/login/", {"email": EMAIL, "password": PASSWORD}).status_code == 403
    page = strict.get("/account/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = strict.post(
        "/account/login/", {"email": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_logging_in_merges_the_visitors_cart_into_the_customers():
    from apps.commerce import services as commerce
    from apps.commerce.models import Cart
    from tests.commerce.checkout_factories import eur_variant, stocked

    user = customer()
    with schema_context("acme"):
        commerce.store_settings_update(default_currency="USD", enabled_currencies=["USD", "EUR"])
        variant = eur_variant("10.00", "Mug")
        stocked(variant, main=9)
        commerce.product_transition(product_id=variant.product_id, action="activate")
    visitor = client()
    assert (
        visitor.post("/cart/add/", {"variant": str(variant.pk), "quantity": "2"}).status_code == 302
    )
    response = visitor.post("/account/login/", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    with schema_context("acme"):
        cart = Cart.objects.get(customer_id=user.pk)
        assert [(line.variant_id, line.quantity) for line in cart.lines.all()] == [(variant.pk, 2)]
    assert "cart_token" not in visitor.session
    assert 'class="mini-cart__count">2<' in visitor.get("/cart/").content.decode()


# -- a customer is never staff ----------------------------------------------------------------


def test_a_customer_gets_no_admin_access():
    customer()
    visitor = logged_in()
    response = visitor.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    refused = client().post("/admin/login/", {"username": EMAIL, "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in refused.wsgi_request.session


def test_staff_may_log_in_on_the_storefront_and_keep_their_admin():
    from tests.conftest import ADMIN_PASSWORD, TEST_TENANTS

    staff = client()
    response = staff.post(
        "/account/login/", {"email": TEST_TENANTS["acme"][1], "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 200


# -- rate limits -----------------------------------------------------------------------------


def test_login_attempts_per_account_are_limited_then_allowed_after_the_window(clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": "3/m"}
    customer()
    visitor = client(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert (
            visitor.post("/account/login/", {"email": EMAIL, "password": "bad"}).status_code == 400
        )
    limited = visitor.post("/account/login/", {"email": EMAIL, "password": PASSWORD})
    assert limited.status_code == 429
    wait = int(limited["Retry-After"])
    assert 1 <= wait <= 61
    body = text(limited)
    assert "Too many attempts" in body and f'value="{EMAIL}"' in body  # what was typed is kept
    assert "_auth_user_id" not in visitor.session
    # Another account from the same address, and the same account from elsewhere, go on.
    customer(email="bob@example.test", name="Bob")
    assert (
        visitor.post(
            "/account/login/", {"email": "bob@example.test", "password": PASSWORD}
        ).status_code
        == 302
    )
    other = client(REMOTE_ADDR="198.51.100.1")
    assert other.post("/account/login/", {"email": EMAIL, "password": PASSWORD}).status_code == 302
    clock.now += wait
    again = client(REMOTE_ADDR="203.0.113.7")
    assert again.post("/account/login/", {"email": EMAIL, "password": PASSWORD}).status_code == 302


def test_the_rate_limit_message_is_translated(clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_ip": "1/h"}
    visitor = client()
    visitor.post("/account/login/?lang=de", {"email": EMAIL, "password": "bad"})
    limited = visitor.post("/account/login/?lang=de", {"email": EMAIL, "password": "bad"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 60
    assert "Zu viele Versuche" in text(limited)


def test_sign_ups_per_address_are_limited(clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_up_ip": "2/h"}
    visitor = client(REMOTE_ADDR="203.0.113.9")
    for number in range(2):
        visitor.post(
            "/account/signup/",
            {"display_name": "N", "email": f"n{number}@example.test", "password": PASSWORD,
             "password_again": PASSWORD},
        )  # fmt: skip
    limited = client(REMOTE_ADDR="203.0.113.9").post(
        "/account/signup/",
        {"display_name": "Kept", "email": "n9@example.test", "password": PASSWORD,
         "password_again": PASSWORD},
    )  # fmt: skip
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert 'value="Kept"' in text(limited)
    with schema_context("acme"):
        assert not get_user_model().objects.filter(username="n9@example.test").exists()
    clock.now += int(limited["Retry-After"])
    response = client(REMOTE_ADDR="203.0.113.9").post(
        "/account/signup/",
        {"display_name": "Kept", "email": "n9@example.test", "password": PASSWORD,
         "password_again": PASSWORD},
    )  # fmt: skip
    assert response.status_code == 302


def test_the_limits_are_counted_per_tenant(clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_ip": "1/h"}
    client().post("/account/login/", {"email": EMAIL, "password": "bad"})
    assert client().post("/account/login/", {"email": EMAIL, "password": "bad"}).status_code == 429
    assert (
        client("globex").post("/account/login/", {"email": EMAIL, "password": "bad"}).status_code
        == 400
    )


# -- password reset --------------------------------------------------------------------------


def test_a_password_reset_mail_links_to_the_tenants_host_and_the_link_works():
    customer()
    visitor = client()
    response = visitor.post("/account/password-reset/", {"email": "ADA@example.test"})
    assert response.status_code == 302 and response["Location"] == "/account/password-reset/sent/"
    (message,) = mail.outbox
    assert message.to == [EMAIL] and "Acme Test" in message.subject
    link = re.search(r"http://acme\.localhost(/account/reset/\S+/)", message.body)[1]
    page = visitor.get(link, follow=True)
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    done = visitor.post(
        page.redirect_chain[-1][0],
        {"new_password1": "quince-meadow-77", "new_password2": "quince-meadow-77"},
    )
    assert done.status_code == 302 and done["Location"] == "/account/reset/done/"
    assert (
        client()
        .post("/account/login/", {"email": EMAIL, "password": "quince-meadow-77"})
        .status_code
        == 302
    )
    # Used once: the link does not work again.
    assert "does not work any more" in text(client().get(link, follow=True))


def test_a_reset_for_an_unknown_email_looks_the_same_and_sends_nothing():
    response = client().post("/account/password-reset/", {"email": "eve@example.test"})
    assert response.status_code == 302 and response["Location"] == "/account/password-reset/sent/"
    assert mail.outbox == []


def test_a_reset_link_of_acme_does_not_work_on_globex():
    customer()
    customer("globex")
    client().post("/account/password-reset/", {"email": EMAIL})
    link = re.search(r"http://acme\.localhost(/account/reset/\S+/)", mail.outbox[0].body)[1]
    assert "does not work any more" in text(client("globex").get(link, follow=True))


# -- the account page ------------------------------------------------------------------------


def test_the_account_page_needs_a_login():
    response = client().get("/account/")
    assert response.status_code == 302
    assert response["Location"] == "/account/login/?next=/account/"


def test_the_account_page_shows_the_customer_their_details_addresses_and_no_orders():
    user = customer()
    with schema_context("acme"):
        services.address_create(user_id=user.pk, data=BERLIN)
    page = text(logged_in().get("/account/"))
    assert "Ada Lovelace" in page and EMAIL in page
    assert "Unter den Linden 1" in page and "Germany" in page
    assert "You have no orders yet." in page
    assert "no-cache" in logged_in().get("/account/")["Cache-Control"]


def test_orders_are_listed_from_the_orders_context_variable():
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    class Order:
        number, status_label, total_display, url = "A-1001", "Paid", "$12.00", "/o/1/"
        placed_at = __import__("datetime").datetime(2026, 3, 1, 12, 0)

    request = RequestFactory().get("/account/")
    html = render_to_string(
        "account/home.html", {"orders": [Order()], "addresses": [], "request": request}
    )
    assert '<a href="/o/1/">A-1001</a>' in html and "Paid" in html and "$12.00" in html
    assert "You have no orders yet." not in html


def test_the_account_page_costs_the_same_queries_whatever_the_addresses(
    django_assert_num_queries,
):
    user = customer()
    visitor = logged_in()
    visitor.get("/account/")  # warm the site's caches

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert visitor.get("/account/").status_code == 200
        return len(queries)

    with schema_context("acme"):
        services.address_create(user_id=user.pk, data=BERLIN)
    one = count()
    with schema_context("acme"):
        for number in range(7):
            services.address_create(user_id=user.pk, data={**BERLIN, "name": f"N{number}"})
    # the tenant's search_path, the session, the user, their addresses, their profile, their
    # orders, the header's mini-cart
    with django_assert_num_queries(7):
        page = visitor.get("/account/")
    assert page.content.decode().count('class="account-address') >= 8
    assert one == 7


# -- the customer's orders -------------------------------------------------------------------


def placed_for(user, schema="acme", **fields):
    """An order of ``user``'s, placed by the orders' service (2 x $10.00 a line, $5.00 shipping)."""
    from tests.commerce.order_factories import place

    with schema_context(schema):
        return place(customer_id=user.pk, email=user.email, **fields)


def order_rows(response) -> list[tuple[str, str, str, str]]:
    """The account page's orders, a (link, number, status, total) per row."""
    section = text(response).split('id="orders"', 1)[1].split("</section>", 1)[0]
    return re.findall(
        r'<tr><td><a href="([^"]+)">(\d+)</a></td><td><time [^>]*>[^<]*</time></td>'
        r"<td>([^<]*)</td><td>([^<]*)</td></tr>",
        section,
    )


def details(response) -> dict[str, str]:
    """The order page's terms and what they say, tags dropped."""
    pairs = re.findall(r"<dt>([^<]*)</dt><dd>(.*?)</dd>", text(response), re.S)
    return {term: re.sub(r"<[^>]+>", "", value).strip() for term, value in pairs}


def test_the_account_page_lists_the_customers_orders_newest_first(monkeypatch):
    from apps.commerce import orders
    from tests.commerce.order_factories import Clock

    monkeypatch.setattr(orders, "now", Clock())  # distinct, increasing placing times
    ada = customer()
    pending = placed_for(ada)
    confirmed = placed_for(ada, lines=2)
    paid = placed_for(ada, lines=3)
    with schema_context("acme"):
        orders.order_confirm(order_id=confirmed.pk)
        orders.order_mark_paid(order_id=paid.pk, reference="PAY-1", amount=paid.total)
    bob = customer(email="bob@example.test", name="Bob")
    bobs = placed_for(bob)
    page = logged_in().get("/account/")
    assert page.status_code == 200
    assert order_rows(page) == [
        (f"/account/orders/{paid.number}/", str(paid.number), "Paid", "$65.00"),
        (f"/account/orders/{confirmed.number}/", str(confirmed.number), "Confirmed", "$45.00"),
        (f"/account/orders/{pending.number}/", str(pending.number), "Pending", "$25.00"),
    ]
    assert "You have no orders yet." not in text(page)
    assert f"/account/orders/{bobs.number}/" not in text(page)
    # Bob sees his order only.
    bobs_page = logged_in(email="bob@example.test").get("/account/")
    assert [row[1] for row in order_rows(bobs_page)] == [str(bobs.number)]


def test_an_order_page_shows_the_order_its_lines_and_totals():
    from apps.commerce import orders

    ada = customer()
    order = placed_for(ada, lines=2)
    with schema_context("acme"):
        orders.order_mark_paid(order_id=order.pk, reference="PAY-1", amount=order.total)
        orders.order_ship(order_id=order.pk, carrier="DHL", tracking_number="00340434")
    visitor = logged_in()
    listed = order_rows(visitor.get("/account/"))
    assert [row[0] for row in listed] == [f"/account/orders/{order.number}/"]
    response = visitor.get(listed[0][0])
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    page = text(response)
    assert f"<h1>Order {order.number}</h1>" in page
    shown = details(response)
    assert (shown["Status"], shown["Payment"], shown["Shipment"]) == (
        "Shipped", "Paid", "DHL 00340434",
    )  # fmt: skip
    assert shown["Ship to"] == "Ada Lovelace, 1 Analytical Way, N1 1AA London, GB"
    assert (shown["Subtotal"], shown["Shipping"], shown["Total"]) == ("$40.00", "$5.00", "$45.00")
    assert shown["Tax"] == f"${order.tax}" and order.tax > 0
    assert "Discount" not in shown
    lines = re.findall(
        r"<tr><td>Linen shirt \(M / Blue\)<br><small>GONE-1</small></td><td>(\d+)</td>"
        r"<td>([^<]*)</td><td>([^<]*)</td></tr>",
        page,
    )
    assert lines == [("2", "$10.00", "$20.00")] * 2


def test_another_customers_order_and_an_unknown_number_are_404():
    ada = customer()
    adas = placed_for(ada)
    customer(email="bob@example.test", name="Bob")
    bob = logged_in(email="bob@example.test")
    response = bob.get(f"/account/orders/{adas.number}/")
    assert response.status_code == 404
    assert "Ada Lovelace" not in text(response) and "1 Analytical Way" not in text(response)
    assert logged_in().get(f"/account/orders/{adas.number + 1000}/").status_code == 404
    assert logged_in().get("/account/orders/abc/").status_code == 404
    assert logged_in().get(f"/account/orders/{adas.number}/").status_code == 200


def test_an_order_page_needs_a_login():
    adas = placed_for(customer())
    response = client().get(f"/account/orders/{adas.number}/")
    assert response.status_code == 302
    assert response["Location"] == f"/account/login/?next=/account/orders/{adas.number}/"


# -- the address book ------------------------------------------------------------------------


def address_ids(schema="acme") -> list[int]:
    with schema_context(schema):
        user = get_user_model().objects.get(username=EMAIL)
        return [a.pk for a in selectors.addresses(user.pk)]


def test_address_book_add_edit_make_default_delete():
    customer()
    visitor = logged_in()
    form = visitor.get("/account/addresses/new/")
    assert (
        form.status_code == 200 and '<option value="DE">Germany</option>' in form.content.decode()
    )
    assert visitor.post("/account/addresses/new/", BERLIN).status_code == 302
    us = {"name": "Al", "street": "1 Main St", "city": "New York", "postal_code": "10001",
          "region": "ny", "country": "US", "make_default": "on"}  # fmt: skip
    assert visitor.post("/account/addresses/new/", us).status_code == 302
    berlin, new_york = sorted(address_ids())
    with schema_context("acme"):
        assert (
            selectors.addresses(get_user_model().objects.get(username=EMAIL).pk)[0].pk == new_york
        )
    edit = visitor.get(f"/account/addresses/{berlin}/")
    assert 'value="Unter den Linden 1"' in edit.content.decode()
    moved = {**BERLIN, "city": "Potsdam", "postal_code": "14467"}
    assert visitor.post(f"/account/addresses/{berlin}/", moved).status_code == 302
    assert visitor.post(f"/account/addresses/{berlin}/default/").status_code == 302
    page = text(visitor.get("/account/"))
    assert page.index("Potsdam") < page.index("New York")  # the default first
    assert visitor.post(f"/account/addresses/{new_york}/delete/").status_code == 302
    assert address_ids() == [berlin]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**BERLIN, "postal_code": "1234"}, "postal_code"),
        (
            {
                "name": "Al",
                "street": "1 Main",
                "city": "NYC",
                "postal_code": "10001",
                "country": "US",
            },
            "region",
        ),
        (
            {
                "name": "Bo",
                "street": "1 High St",
                "city": "London",
                "postal_code": "XYZ",
                "country": "GB",
            },
            "postal_code",
        ),
        ({**BERLIN, "country": "ZZ"}, "country"),
    ],
)
def test_a_bad_address_is_refused_with_its_fields_error(data, field):
    customer()
    visitor = logged_in()
    response = visitor.post("/account/addresses/new/", data)
    assert response.status_code == 400
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', response.content.decode()), (
        response.content.decode()[:2000]
    )
    assert address_ids() == []


def test_the_address_book_is_for_logged_in_customers_only():
    for path in ("/account/addresses/new/", "/account/addresses/1/"):
        response = client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/account/login/")


# -- isolation -------------------------------------------------------------------------------


def test_an_acme_customer_cannot_log_in_on_globex():
    customer()
    response = client("globex").post("/account/login/", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert "The email or the password is not right." in text(response)


def test_another_customers_and_another_tenants_addresses_are_never_shown():
    ada = customer()
    with schema_context("acme"):
        address = services.address_create(user_id=ada.pk, data=BERLIN)
    customer(email="bob@example.test", name="Bob")
    bob = logged_in(email="bob@example.test")
    assert bob.get(f"/account/addresses/{address.pk}/").status_code == 404
    assert bob.post(f"/account/addresses/{address.pk}/delete/").status_code == 404
    assert bob.post(f"/account/addresses/{address.pk}/default/").status_code == 404
    assert "Unter den Linden" not in text(bob.get("/account/"))
    # The same email on globex is another person, with an empty address book.
    customer("globex")
    globex = logged_in("globex")
    assert globex.get(f"/account/addresses/{address.pk}/").status_code == 404
    assert "Unter den Linden" not in text(globex.get("/account/"))
    assert address_ids() == [address.pk]


def test_an_acme_order_is_unreachable_from_globex():
    from apps.storefront.checkout_views import PLACED_SESSION_KEY

    adas = placed_for(customer())
    customer("globex")  # the same email on globex: another person, with no orders
    globex = logged_in("globex")
    response = globex.get(f"/account/orders/{adas.number}/")
    assert response.status_code == 404
    assert "1 Analytical Way" not in text(response)
    home = globex.get("/account/")
    assert order_rows(home) == [] and "You have no orders yet." in text(home)

    # The confirmation shows the order the session placed: acme's order is shown on acme ...
    def confirmation(schema: str, visitor: Client):
        with schema_context(schema):
            session = visitor.session
            session[PLACED_SESSION_KEY] = str(adas.pk)
            session.save()
        visitor.cookies["sessionid"] = session.session_key
        return visitor.get("/checkout/complete/")

    on_acme = confirmation("acme", client())
    assert f"Your order number is {adas.number}." in text(on_acme)
    # ... and globex, asked for it, finds none and sends the visitor to its shop.
    for visitor in (client("globex"), globex):
        response = confirmation("globex", visitor)
        assert (response.status_code, response["Location"]) == (302, "/shop/")


def test_a_session_of_acme_means_nothing_on_globex():
    customer()
    visitor = logged_in()
    cookie = visitor.cookies["sessionid"].value
    other = client("globex")
    other.cookies["sessionid"] = cookie
    assert other.get("/account/").status_code == 302


def test_the_account_urls_are_mounted():
    assert reverse("account:login") == "/account/login/"
