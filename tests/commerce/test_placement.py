"""Placing an order (``checkout_place_order``): paying, then one transaction that sells the held
stock, counts the voucher's use, writes the order and removes the cart.

The payment services refuse to run inside a transaction, so these tests work on committed
data (``live_db``) and wipe it afterwards; the card gateway is the local fake.
"""

from __future__ import annotations

import re
import threading
import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.commerce import checkout as co
from apps.commerce import services
from apps.commerce.errors import (
    OutOfStock,
    PaymentDeclined,
    PaymentUnavailable,
    ReservationExpired,
    VoucherExhausted,
)
from apps.commerce.models import (
    Cart,
    Checkout,
    Order,
    OrderStatus,
    PaymentAttempt,
    Reservation,
    StockLevel,
    Voucher,
    VoucherUse,
)
from apps.commerce.payments import fake_gateway
from apps.commerce.placement import checkout_place_order
from tests.index.support import wipe_tables
from tests.locks import lock_waiters

from .checkout_factories import GERMAN_ADDRESS, eur_variant, make_cart, shipping_zone, stocked, tax
from .checkout_factories import voucher as make_voucher
from .concurrency import race
from .conftest import CURRENCIES

PLACED_TABLES = (
    "commerce_product, commerce_location, commerce_storesettings, commerce_cart, "
    "commerce_voucher, commerce_shippingzone, commerce_taxrate, commerce_paymentattempt, "
    "commerce_orderemail, commerce_orderline, commerce_order, commerce_orderevent, "
    "commerce_reservation, commerce_stockadjustment"
)
VISA = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}
DECLINED = {**VISA, "number": "4000 0000 0000 0002"}
SLOW = {**VISA, "number": "4000 0000 0000 0119"}  # answered after the client's timeout


@pytest.fixture
def placing(live_db, settings):
    """acme on committed data, selling in EUR with 19 % German VAT, the card gateway up."""
    server, thread = fake_gateway.start(slow_seconds=settings.TEST_CARD_GATEWAY_SLOW_SECONDS)
    settings.TEST_CARD_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}"
    wipe_tables(PLACED_TABLES)
    with schema_context("acme"):
        services.store_settings_update(default_currency="USD", enabled_currencies=CURRENCIES)
        tax("DE", "0.19")
        yield {"method": shipping_zone(price="4.90"), "gateway": server.gateway}
    connection.set_schema_to_public()
    wipe_tables(PLACED_TABLES)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _at_payment(method, *lines, email="erika@example.com", code=None, reserve=True, customer=None):
    """A checkout of ``lines`` ((variant, quantity) pairs) with every step done, its stock held
    (a visitor's, or the cart of ``customer``)."""
    cart = make_cart(*lines, customer=customer)
    checkout = co.checkout_start(cart_id=cart.pk)
    co.checkout_set_email(checkout_id=checkout.pk, email=email)
    co.checkout_set_address(checkout_id=checkout.pk, address=GERMAN_ADDRESS)
    co.checkout_set_shipping(checkout_id=checkout.pk, method_id=method.pk)
    if code:
        co.checkout_apply_voucher(
            checkout_id=checkout.pk, code=code, customer_id=customer.pk if customer else None
        )
    if reserve:
        co.checkout_reserve(checkout_id=checkout.pk)
    return checkout


def _on_hand(variant) -> int:
    return sum(StockLevel.objects.filter(variant=variant).values_list("on_hand", flat=True))


def test_a_bank_transfer_places_a_pending_order_and_sells_the_held_stock(placing):
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkout = _at_payment(placing["method"], (shirt, 2))
    order = checkout_place_order(checkout_id=checkout.pk, provider_code="manual")
    assert order.status == OrderStatus.PENDING and order.payment_provider == "manual"
    # 2 x 10.00 + 4.90 shipping, prices include 19 % VAT.
    assert order.total == Decimal("24.90") and order.currency == "EUR"
    assert [(line.sku, line.quantity, line.total) for line in order.lines.all()] == [
        (shirt.sku, 2, Decimal("20.00"))
    ]
    assert _on_hand(shirt) == 3 and not Reservation.objects.exists()
    assert not Cart.objects.filter(pk=checkout.cart_id).exists()
    attempt = PaymentAttempt.objects.get(reference=checkout.reservation_reference)
    assert attempt.outcome == "pending" and attempt.order_id == order.pk


def test_an_approved_card_places_a_paid_order_with_the_gateways_reference(placing):
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkout = _at_payment(placing["method"], (shirt, 1))
    order = checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=VISA)
    assert order.status == OrderStatus.PAID and order.paid_amount == order.total
    attempt = PaymentAttempt.objects.get(reference=checkout.reservation_reference)
    assert order.payment_reference == attempt.provider_reference.strip() != ""
    assert attempt.order_id == order.pk


def test_a_declined_card_keeps_the_cart_and_the_held_stock(placing):
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkout = _at_payment(placing["method"], (shirt, 2))
    with pytest.raises(PaymentDeclined) as refused:
        checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=DECLINED)
    assert "declined" in refused.value.detail.lower()
    assert not Order.objects.exists()
    assert Cart.objects.filter(pk=checkout.cart_id).exists()
    assert Reservation.objects.filter(reference=checkout.reservation_reference).count() == 1
    assert _on_hand(shirt) == 5
    # The shopper tries another card: the order is placed from the same hold.
    order = checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=VISA)
    assert order.status == OrderStatus.PAID and _on_hand(shirt) == 3


def test_a_card_payment_that_times_out_keeps_the_cart_and_the_held_stock(placing):
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkout = _at_payment(placing["method"], (shirt, 2))
    reference = checkout.reservation_reference
    with pytest.raises(PaymentUnavailable) as refused:
        checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=SLOW)
    assert refused.value.status == 503
    assert refused.value.detail == (
        "The card service timed out. Try again: a retry is never charged twice."
    )
    assert not Order.objects.exists()
    assert Cart.objects.filter(pk=checkout.cart_id).exists()
    assert Reservation.objects.filter(reference=reference).count() == 1
    assert StockLevel.objects.get(variant=shirt).reserved == 2 and _on_hand(shirt) == 5
    attempt = PaymentAttempt.objects.get(reference=reference)
    assert (attempt.outcome, attempt.error_code, attempt.order_id) == ("failed", "timeout", None)
    # The gateway finished the charge after the checkout gave up on it; the shopper tries
    # again with the same card: the same attempt, answered with that charge, not a second one.
    assert len(placing["gateway"].wait_for_charges(reference, 1, timeout=10)) == 1
    order = checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=SLOW)
    assert order.status == OrderStatus.PAID and _on_hand(shirt) == 3
    assert len(placing["gateway"].charges_for(reference)) == 1
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.tries, attempt.order_id) == ("approved", 2, order.pk)


def test_after_a_timeout_the_gateway_finished_another_card_places_the_order_paid_by_the_first(
    placing,
):
    """The shopper gives up on the slow card and pays with another (or by transfer): the
    first charge went through meanwhile, so it pays the order and nothing else is charged."""
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkout = _at_payment(placing["method"], (shirt, 2))
    reference = checkout.reservation_reference
    with pytest.raises(PaymentUnavailable):
        checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=SLOW)
    [first] = placing["gateway"].wait_for_charges(reference, 1, timeout=10)

    order = checkout_place_order(checkout_id=checkout.pk, provider_code="manual")

    assert order.status == OrderStatus.PAID and order.payment_provider == "test_card"
    assert (order.payment_reference, order.paid_amount) == (first["id"], order.total)
    attempt = PaymentAttempt.objects.get(reference=reference)
    assert (attempt.outcome, attempt.card_last4, attempt.order_id) == ("approved", "0119", order.pk)
    assert placing["gateway"].charges_for(reference) == [first]
    assert _on_hand(shirt) == 3 and not Cart.objects.filter(pk=checkout.cart_id).exists()


def test_after_a_timeout_that_never_reached_the_gateway_another_card_pays(placing):
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkout = _at_payment(placing["method"], (shirt, 1))
    reference = checkout.reservation_reference
    placing["gateway"].lose_next(1)
    with pytest.raises(PaymentUnavailable):
        checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=SLOW)

    order = checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=VISA)

    [charged] = placing["gateway"].charges_for(reference)
    assert order.status == OrderStatus.PAID and order.payment_reference == charged["id"]
    attempts = PaymentAttempt.objects.filter(reference=reference).order_by("number")
    assert [(a.number, a.outcome, a.error_code, a.card_last4) for a in attempts] == [
        (1, "failed", "not_received", "0119"),
        (2, "approved", "", "4242"),
    ]
    assert {a.order_id for a in attempts} == {order.pk}


def test_another_card_while_the_gateway_is_down_keeps_the_cart_and_charges_nothing(
    placing, settings
):
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkout = _at_payment(placing["method"], (shirt, 1))
    reference = checkout.reservation_reference
    with pytest.raises(PaymentUnavailable):
        checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=SLOW)
    placing["gateway"].wait_for_charges(reference, 1, timeout=10)
    placing["gateway"].fail_next(settings.ERROR_POLICIES["payments"]["MAX_ATTEMPTS"])

    with pytest.raises(PaymentUnavailable) as refused:
        checkout_place_order(checkout_id=checkout.pk, provider_code="test_card", card=VISA)

    assert refused.value.status == 503 and "nothing was charged now" in refused.value.detail
    assert not Order.objects.exists() and Cart.objects.filter(pk=checkout.cart_id).exists()
    assert [c["last4"] for c in placing["gateway"].charges_for(reference)] == ["0119"]
    attempt = PaymentAttempt.objects.get(reference=reference)
    assert (attempt.outcome, attempt.error_code) == ("failed", "timeout")


def test_an_expired_hold_whose_stock_is_gone_refunds_the_card_and_places_nothing(placing):
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=1)
    late = _at_payment(placing["method"], (shirt, 1))
    # The hold lapses (the shopper's page still shows it) and someone else buys the last unit.
    Reservation.objects.update(expires_at="2000-01-01T00:00:00Z")
    other = _at_payment(placing["method"], (shirt, 1), email="other@example.com")
    checkout_place_order(checkout_id=other.pk, provider_code="manual")
    with pytest.raises((ReservationExpired, OutOfStock)):
        checkout_place_order(checkout_id=late.pk, provider_code="test_card", card=VISA)
    kinds = sorted(
        PaymentAttempt.objects.filter(reference=late.reservation_reference).values_list(
            "kind", "outcome"
        )
    )
    assert kinds == [("charge", "approved"), ("refund", "approved")]
    assert Order.objects.count() == 1 and _on_hand(shirt) == 0


def test_the_vouchers_last_use_goes_to_one_order_only(placing):
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=10)
    code = make_voucher("LAST", percentage="10", usage_limit=1)
    first = _at_payment(placing["method"], (shirt, 1), code="LAST")
    second = _at_payment(placing["method"], (shirt, 1), email="b@example.com", code="LAST")
    order = checkout_place_order(checkout_id=first.pk, provider_code="manual")
    assert order.discount == Decimal("1.00") and order.voucher_code == "LAST"
    with pytest.raises(VoucherExhausted):
        checkout_place_order(checkout_id=second.pk, provider_code="manual")
    assert Voucher.objects.get(pk=code.pk).used_count == 1
    assert VoucherUse.objects.count() == 1 and Order.objects.count() == 1


@pytest.fixture
def ada(placing):
    """A customer of acme (committed); she goes after her orders and carts."""
    with schema_context("acme"):
        user = get_user_model().objects.create_user(
            username="ada@example.com", email="ada@example.com", password="pw-ada-12345"
        )
    yield user
    wipe_tables(PLACED_TABLES)
    with schema_context("acme"):
        get_user_model().objects.filter(pk=user.pk).delete()


def test_two_checkouts_of_one_customer_race_for_their_one_use_and_one_order_gets_it(placing, ada):
    """The customer's cart, and a visitor's cart with her email (she, logged out on another
    device), place their orders at once on separate connections with a voucher each customer
    may use once: one order is placed with it, the other is refused and keeps its hold."""
    # Different products: no stock row is locked by both, only the voucher's.
    shirt, hat = eur_variant("10.00", "Shirt"), eur_variant("10.00", "Hat")
    stocked(shirt, main=10)
    stocked(hat, main=10)
    code = make_voucher("ONCE-EACH", percentage="10", usage_limit=10, per_customer_limit=1)
    checkouts = [
        _at_payment(placing["method"], (shirt, 1), email=ada.email, code="ONCE-EACH", customer=ada),
        _at_payment(placing["method"], (hat, 1), email="Ada@Example.com", code="ONCE-EACH"),
    ]
    outcomes = race([
        lambda pk=checkout.pk: checkout_place_order(checkout_id=pk, provider_code="manual").number
        for checkout in checkouts
    ])  # fmt: skip
    assert sorted(outcome[0] for outcome in outcomes) == ["ok", "refused"], outcomes
    assert ("refused", "VoucherExhausted") in outcomes
    order = Order.objects.get()
    assert order.voucher_code == "ONCE-EACH" and order.discount == Decimal("1.00")
    assert Voucher.objects.get(pk=code.pk).used_count == 1 and VoucherUse.objects.count() == 1
    refused = checkouts[[outcome[0] for outcome in outcomes].index("refused")]
    assert Cart.objects.filter(pk=refused.cart_id).exists()
    assert Reservation.objects.filter(reference=refused.reservation_reference).count() == 1
    assert _on_hand(shirt) + _on_hand(hat) == 19


def test_twenty_shoppers_race_for_five_units_and_exactly_five_orders_are_placed(placing):
    """Twenty checkouts of the last five units, each holding the stock and placing its order on
    its own connection, all released at once: five orders, fifteen clear refusals, stock 0."""
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkouts = [
        _at_payment(placing["method"], (shirt, 1), email=f"buyer{n}@example.com", reserve=False)
        for n in range(20)
    ]

    def buy(checkout_id):
        co.checkout_reserve(checkout_id=checkout_id)
        return checkout_place_order(checkout_id=checkout_id, provider_code="manual").number

    outcomes = race([lambda pk=checkout.pk: buy(pk) for checkout in checkouts])
    assert sorted(kind for kind, *_rest in outcomes) == ["ok"] * 5 + ["refused"] * 15, outcomes
    assert {detail for kind, detail in outcomes if kind == "refused"} == {"OutOfStock"}
    assert Order.objects.count() == 5
    assert _on_hand(shirt) == 0
    assert StockLevel.objects.get(variant=shirt).reserved == 0


def _until(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_second_submission_that_waited_for_the_first_is_told_the_order_is_placed(placing):
    """Two submissions of one bank-transfer checkout, both paid (pending) and both waiting for
    the checkout's lock: the first places the order, the second finds it placed (409), not a
    vanished row (an untyped error, a 500)."""
    shirt = eur_variant("10.00", "Shirt")
    stocked(shirt, main=5)
    checkout = _at_payment(placing["method"], (shirt, 1))
    held, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def hold_the_checkout():
        with schema_context("acme"), transaction.atomic():
            Checkout.objects.select_for_update().get(pk=checkout.pk)
            held.set()
            release.wait(timeout=30)
        connections.close_all()

    def submit(name):
        try:
            with schema_context("acme"):
                order = checkout_place_order(checkout_id=checkout.pk, provider_code="manual")
                outcomes[name] = order.number
        except Exception as error:  # the assertion shows it
            outcomes[name] = type(error).__name__
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_checkout)
    holder.start()
    held.wait(timeout=10)
    first = threading.Thread(target=submit, args=("first",))
    first.start()
    _until(lambda: lock_waiters() == 1)
    second = threading.Thread(target=submit, args=("second",))
    second.start()
    _until(lambda: lock_waiters() == 2)
    release.set()
    for thread in (holder, first, second):
        thread.join(timeout=30)
    order = Order.objects.get()
    assert outcomes == {"first": order.number, "second": "OrderAlreadyPlaced"}
    assert _on_hand(shirt) == 4


@pytest.mark.parametrize("lines", [1, 20])
def test_placing_an_order_costs_the_same_queries_for_1_and_20_lines(placing, lines):
    variants = [eur_variant("10.00", f"Item {n}") for n in range(lines)]
    for variant in variants:
        stocked(variant, main=3)
    checkout = _at_payment(placing["method"], *[(variant, 2) for variant in variants])
    with CaptureQueriesContext(connection) as queries:
        order = checkout_place_order(checkout_id=checkout.pk, provider_code="manual")
    assert order.lines.count() == lines
    listed = "\n".join(query["sql"][:100] for query in queries)
    assert len(queries) == PLACE_ORDER_QUERIES, listed
    statements = [q for q in queries if not TRANSACTION_CONTROL.match(q["sql"])]
    assert len(statements) == PLACE_ORDER_STATEMENTS, listed


TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")
# Reading the checkout, its lines, the store's settings, the shipping rate and the tax rate;
# the payment attempt written (with its reconciliation marked due in the due-work index),
# then its answer recorded with its event; then the one
# transaction: the checkout locked, the held stock sold under its locks (the reservations gone
# in one DELETE, one event row for every line), the order numbered, its stream, row, lines and event written, the attempts
# linked, the cart removed.
PLACE_ORDER_STATEMENTS = 30
# The same with the transactions' BEGIN/COMMIT and their savepoints.
PLACE_ORDER_QUERIES = 42
