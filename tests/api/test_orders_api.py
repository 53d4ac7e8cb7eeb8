"""/api/v1/commerce/orders/ and /customers/: lists and their filters, one order with its
history, the order as of a moment, transitions and refunds with their bodies, stale versions,
unknown ids and actions, other tenants, who may, and a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.commerce import orders
from apps.commerce.models import Order
from tests.commerce.order_factories import place
from tests.factories import UserFactory

from .conftest import assert_problem, login_as

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/commerce/orders/"
CUSTOMERS = "/api/v1/commerce/customers/"


@pytest.fixture
def merchant_user(acme_client):
    return login_as(acme_client, "acme", email="merchant@acme.test", groups=["Merchant"])


@pytest.fixture
def merchant_api(acme_client, merchant_user):
    return acme_client


def an_order(schema: str = "acme", **fields) -> Order:
    with schema_context(schema):
        return place(**fields)


def act(order: Order, action: str, **data) -> Order:
    with schema_context("acme"):
        return orders.order_transition(order_id=order.pk, action=action, **data)


def paid(order: Order) -> Order:
    return act(order, "mark_paid", reference="PAY-1", amount=Decimal("25.00"))


def reloaded(order: Order) -> Order:
    with schema_context("acme"):
        return Order.objects.get(pk=order.pk)


def url(order, suffix: str = "") -> str:
    return f"{ORDERS}{order.pk}/{suffix}"


def post(client, path: str, data: dict | None = None):
    return client.post(path, data or {}, content_type="application/json")


def numbers(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["number"] for row in response.json()["results"]]


# -- reading -----------------------------------------------------------------------------------


def test_the_list_shows_orders_newest_first_with_amounts_as_strings(merchant_api):
    first, second = an_order(), an_order(email="bob@example.test")
    body = merchant_api.get(ORDERS).json()
    assert [row["number"] for row in body["results"]] == [second.number, first.number]
    row = body["results"][1]
    assert row["id"] == str(first.pk) and row["status"] == "pending"
    assert row["payment_status"] == "unpaid" and row["customer"] is None
    assert (row["total"], row["subtotal"], row["shipping_price"]) == ("25.00", "20.00", "5.00")
    assert row["version"] == 1 and "lines" not in row


def test_the_list_filters_by_status_payment_email_customer_and_placing_time(merchant_api, clock):
    with schema_context("acme"):
        grace = UserFactory(email="grace@example.test")
    pending = an_order(email="Ada@Example.test")
    confirmed = act(an_order(customer_id=grace.pk), "confirm")
    settled = paid(an_order())
    assert numbers(merchant_api.get(ORDERS, {"status": "confirmed"})) == [confirmed.number]
    assert numbers(merchant_api.get(ORDERS, {"payment_status": "paid"})) == [settled.number]
    assert numbers(merchant_api.get(ORDERS, {"email": "ada@example.TEST"})) == [pending.number]
    assert numbers(merchant_api.get(ORDERS, {"customer": grace.pk})) == [confirmed.number]
    middle = reloaded(confirmed).placed_at
    assert numbers(merchant_api.get(ORDERS, {"placed_after": middle.isoformat()})) == [
        settled.number, confirmed.number,
    ]  # fmt: skip
    assert numbers(merchant_api.get(ORDERS, {"placed_before": middle.isoformat()})) == [
        pending.number
    ]
    assert numbers(merchant_api.get(ORDERS, {"ordering": "number"})) == sorted(
        [pending.number, confirmed.number, settled.number]
    )
    for bad in ({"status": "lost"}, {"customer": "x"}, {"placed_after": "soon"}):
        assert_problem(merchant_api.get(ORDERS, bad), 400)


def test_one_order_with_its_lines_addresses_and_history(merchant_api, clock):
    order = an_order(lines=2)
    with schema_context("acme"):
        orders.order_confirm(
            order_id=order.pk, actor=UserFactory(email="m@acme.test", is_staff=True)
        )
    body = merchant_api.get(url(order)).json()
    assert body["number"] == order.number and body["status"] == "confirmed"
    assert len(body["lines"]) == 2
    assert body["lines"][0] | {"variant": None} == {
        "variant": None, "product": None, "sku": "GONE-1", "product_title": "Linen shirt",
        "variant_title": "M / Blue", "quantity": 2, "unit_price": "10.00", "discount": "0.00",
        "tax_rate": "0.190000", "tax": "3.19", "total": "20.00",
    }  # fmt: skip
    assert body["shipping_address"]["city"] == "London"
    history = body["history"]
    assert [(e["version"], e["type"]) for e in history] == [
        (1, "commerce.order.placed"), (2, "commerce.order.confirmed"),
    ]  # fmt: skip
    assert history[1]["actor"] == "m@acme.test" and history[1]["actor_kind"] == "user"
    assert history[1]["payload"]["from_status"] == "pending"
    assert history[0]["occurred_at"] < history[1]["occurred_at"]


def test_the_order_as_of_a_moment(merchant_api, clock):
    order = an_order()
    act(order, "confirm")
    paid(order)
    with schema_context("acme"):
        stream = orders.order_stream(order.pk)
    between = stream[1].occurred_at + timedelta(seconds=1)
    body = merchant_api.get(url(order, "as-of/"), {"at": between.isoformat()}).json()
    assert (body["status"], body["payment_status"], body["version"]) == ("confirmed", "unpaid", 2)
    assert body["paid_amount"] == "0.00" and body["lines"][0]["total"] == "20.00"
    assert body["as_of"].startswith(between.isoformat()[:19])
    now = merchant_api.get(url(order, "as-of/"), {"at": stream[-1].occurred_at.isoformat()})
    assert now.json()["status"] == "paid" and now.json()["paid_amount"] == "25.00"
    before = stream[0].occurred_at - timedelta(seconds=1)
    assert_problem(
        merchant_api.get(url(order, "as-of/"), {"at": before.isoformat()}), 404, "order_not_found"
    )
    body = assert_problem(merchant_api.get(url(order, "as-of/"), {"at": "noon"}), 400)
    assert "at" in body["errors"]
    assert_problem(merchant_api.get(url(order, "as-of/")), 400)


# -- writing ---------------------------------------------------------------------------------


def test_an_order_through_its_transitions(merchant_api):
    order = an_order()
    response = post(merchant_api, url(order, "transitions/confirm/"), {})
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    response = post(
        merchant_api,
        url(order, "transitions/mark_paid/"),
        {"reference": "PAY-7", "amount": "25.00", "expected_version": 2},
    )
    assert response.json()["payment_reference"] == "PAY-7"
    response = post(
        merchant_api, url(order, "transitions/ship/"), {"carrier": "DHL", "tracking_number": "1Z"}
    )
    assert (response.json()["carrier"], response.json()["status"]) == ("DHL", "fulfilled")
    response = post(merchant_api, url(order, "transitions/deliver/"), {})
    body = response.json()
    assert body["status"] == "delivered" and body["version"] == 5
    assert body["history"][-1]["type"] == "commerce.order.delivered"
    assert body["history"][-1]["actor"] == "merchant@acme.test"


def test_a_cancel_takes_a_reason(merchant_api):
    order = an_order()
    response = post(merchant_api, url(order, "transitions/cancel/"), {"reason": "Asked to"})
    assert (response.json()["status"], response.json()["cancel_reason"]) == (
        "cancelled",
        "Asked to",
    )


def test_bodies_are_checked_per_action(merchant_api):
    order = an_order()
    body = assert_problem(
        post(merchant_api, url(order, "transitions/confirm/"), {"reason": "x"}), 400
    )
    assert body["errors"] == {"reason": ["Unknown field."]}
    body = assert_problem(
        post(merchant_api, url(order, "transitions/mark_paid/"), {"reference": "P", "amount": 25}),
        400,
    )
    assert "amount" in body["errors"]
    body = assert_problem(
        post(merchant_api, url(order, "transitions/mark_paid/"), {"reference": "P", "amount": "24"}),
        400, "commerce_invalid",
    )  # fmt: skip
    assert "amount" in body["errors"]
    assert_problem(post(merchant_api, url(order, "transitions/ship/"), {"carrier": "DHL"}), 400)
    body = assert_problem(
        post(merchant_api,
            url(order, "transitions/ship/"), {"carrier": "DHL", "tracking_number": "1Z"}
        ),
        409, "invalid_transition",
    )  # fmt: skip
    assert body["current"] == "pending"
    assert reloaded(order).version == 1


def test_refunds_in_parts_and_never_more_than_paid(merchant_api):
    order = paid(an_order())
    response = post(merchant_api, url(order, "refunds/"), {"amount": "10.00", "reason": "Dent"})
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["payment_status"], body["refunded_amount"]) == (
        "paid", "partially_refunded", "10.00",
    )  # fmt: skip
    assert body["history"][-1]["payload"]["amount"] == "10.00"
    body = assert_problem(
        post(merchant_api, url(order, "refunds/"), {"amount": "15.01"}), 400, "commerce_invalid"
    )
    assert "15.00 USD" in body["errors"]["amount"][0]
    assert reloaded(order).refunded_amount == Decimal("10.00")
    response = post(
        merchant_api, url(order, "refunds/"), {"amount": "15.00", "expected_version": 3}
    )
    assert (response.json()["status"], response.json()["payment_status"]) == (
        "refunded",
        "refunded",
    )
    assert_problem(post(merchant_api, url(an_order(), "refunds/"), {"amount": "1.00"}), 409)


def test_a_stale_version_is_a_409_and_changes_nothing(merchant_api):
    order = act(an_order(), "confirm")
    body = assert_problem(
        post(merchant_api, url(order, "transitions/cancel/"), {"expected_version": 1}),
        409, "order_version_conflict",
    )  # fmt: skip
    assert body["current_version"] == 2
    assert_problem(
        post(merchant_api, url(paid(order), "refunds/"), {"amount": "1.00", "expected_version": 2}),
        409, "order_version_conflict",
    )  # fmt: skip
    assert reloaded(order).status == "paid"


def test_unknown_orders_and_actions_are_404s(merchant_api):
    order = an_order()
    for missing in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert_problem(merchant_api.get(f"{ORDERS}{missing}/"), 404)
        assert_problem(post(merchant_api, f"{ORDERS}{missing}/transitions/confirm/", {}), 404)
    assert_problem(
        merchant_api.get(f"{ORDERS}00000000-0000-0000-0000-000000000000/"), 404, "order_not_found"
    )
    assert_problem(post(merchant_api, url(order, "transitions/explode/"), {}), 404)
    assert reloaded(order).version == 1


def test_another_tenants_order_is_a_404(merchant_api):
    theirs = an_order("globex")
    assert_problem(merchant_api.get(url(theirs)), 404, "order_not_found")
    assert_problem(post(merchant_api, url(theirs, "transitions/confirm/"), {}), 404)
    assert_problem(merchant_api.get(url(theirs, "as-of/"), {"at": "2030-01-01T00:00"}), 404)
    with schema_context("globex"):
        assert Order.objects.get(pk=theirs.pk).status == "pending"


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_costs_the_same_queries_for_3_and_30_orders(
    merchant_api, django_assert_num_queries, count
):
    with schema_context("acme"):
        buyer = UserFactory(email="buyer@example.test")
    for number in range(count):
        an_order(customer_id=buyer.pk if number % 2 else None)
    merchant_api.get(ORDERS)  # warm the per-process caches
    # session, user, the user's and the groups' permissions, the page.
    with django_assert_num_queries(5):
        response = merchant_api.get(ORDERS, {"page_size": 100})
    assert len(response.json()["results"]) == count


# -- who may --------------------------------------------------------------------------------


def test_editors_get_403_and_anonymous_callers_401(acme_client):
    order = an_order()
    assert_problem(acme_client.get(ORDERS), 401, "not_authenticated")
    login_as(acme_client, "acme", email="editor@acme.test", groups=["Editor"])
    for response in (
        acme_client.get(ORDERS), acme_client.get(url(order)), acme_client.get(CUSTOMERS),
        post(acme_client, url(order, "transitions/confirm/"), {}),
        post(acme_client, url(order, "refunds/"), {"amount": "1.00"}),
    ):  # fmt: skip
        assert_problem(response, 403, "permission_denied")
    assert reloaded(order).version == 1


def test_reading_does_not_let_one_change_orders(acme_client):
    order = an_order()
    login_as(acme_client, "acme", email="viewer@acme.test", perms=["commerce.view_order"])
    assert acme_client.get(url(order)).status_code == 200
    assert_problem(post(acme_client, url(order, "transitions/confirm/"), {}), 403)


# -- customers -----------------------------------------------------------------------------


def test_customers_are_non_staff_accounts_with_their_order_counts(merchant_api, merchant_user):
    with schema_context("acme"):
        grace = UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper")
        alan = UserFactory(email="alan@example.test")
    an_order(customer_id=grace.pk)
    an_order(customer_id=grace.pk)
    body = merchant_api.get(CUSTOMERS).json()
    rows = {row["email"]: row for row in body["results"]}
    assert set(rows) == {"grace@example.test", "alan@example.test"}
    assert rows["grace@example.test"]["display_name"] == "Grace Hopper"
    assert rows["grace@example.test"]["orders_count"] == 2
    assert rows["alan@example.test"]["orders_count"] == 0
    one = merchant_api.get(f"{CUSTOMERS}{alan.pk}/").json()
    assert one["id"] == alan.pk and one["email"] == "alan@example.test" and "date_joined" in one
    assert_problem(merchant_api.get(f"{CUSTOMERS}{merchant_user.pk}/"), 404, "customer_not_found")
    assert_problem(merchant_api.get(f"{CUSTOMERS}x/"), 404)


def test_another_tenants_customer_is_never_listed_or_shown(merchant_api):
    from django.contrib.auth import get_user_model

    with schema_context("acme"):
        acme_ids = set(get_user_model().objects.values_list("pk", flat=True))
    with schema_context("globex"):
        theirs = UserFactory(email="only-at-globex@example.test")
        while theirs.pk in acme_ids:  # an id acme does not have: the 404 is the isolation's
            theirs = UserFactory()
    listed = merchant_api.get(CUSTOMERS, {"page_size": 100})
    assert listed.status_code == 200
    assert "only-at-globex@example.test" not in listed.content.decode()
    assert_problem(merchant_api.get(f"{CUSTOMERS}{theirs.pk}/"), 404)


@pytest.mark.parametrize(
    ("value", "status"),
    [("2486-10-08T08:56:03+16:22", 200), ("0001-01-01T00:00:00+10:00", 400), ("soon", 400)],
)
def test_a_time_filter_with_any_offset_is_never_a_500(acme_api, value, status):
    """PostgreSQL refuses offsets beyond 15:59 that Python accepts: the filter sends UTC."""
    response = acme_api.get(ORDERS, {"placed_before": value})
    assert response.status_code == status, response.content[:300]
