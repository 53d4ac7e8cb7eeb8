"""Orders and customers in the merchants' admin: the list (columns, filters, search, a bounded
number of queries), the read-only page with its timeline and the transitions its status
allows, each transition through its form, a stale page, refunds, the order as of a past
moment, and who may do what."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Max
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.commerce import order_emails, orders
from apps.commerce import tasks as commerce_tasks
from apps.commerce.models import Order, OrderEmail
from tests.commerce.order_factories import place
from tests.factories import UserFactory
from tests.storefront.test_i18n import compiled_messages  # noqa: F401 (fixture)

from .conftest import ADMIN, login, messages_of, page

ORDERS = f"{ADMIN}order/"
CUSTOMERS = f"{ADMIN}customer/"


def an_order(**fields) -> Order:
    with schema_context("acme"):
        return place(**fields)


def reloaded(order: Order) -> Order:
    with schema_context("acme"):
        return Order.objects.get(pk=order.pk)


def order_url(order: Order, suffix: str = "change/") -> str:
    return f"{ORDERS}{order.pk}/{suffix}"


def take(client, order: Order, action: str, *, version: int | None = None, **data):
    """Post the transition's form as the page renders it (``version``: the page's)."""
    version = reloaded(order).version if version is None else version
    fields = {f"{action}-expected_version": version}
    fields.update({f"{action}-{name}": value for name, value in data.items()})
    return client.post(order_url(order, f"transition/{action}/"), fields, follow=True)


def in_transitions(content: str) -> set[str]:
    return set(re.findall(r'class="order-transition" data-action="([a-z_]+)"', content))


def rows(content: str) -> int:
    return content.count('class="list-title"')


# -- the list ----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
def test_the_order_list_costs_the_same_queries_for_3_and_30_orders(
    merchant_client, django_assert_num_queries, count
):
    with schema_context("acme"):
        buyer = UserFactory(email="buyer@example.test")
    for number in range(count):
        an_order(customer_id=buyer.pk if number % 2 else None, email=f"b{number}@example.test")
    merchant_client.get(ORDERS)  # warm the per-process caches (tenant, flags, modules)
    # session, user, the user's and the groups' permissions, the count, the rows (with their
    # customers and profiles), the date hierarchy's range and days, the providers' filter.
    with django_assert_num_queries(9):
        content = page(merchant_client.get(ORDERS))
    assert rows(content) == count


def test_the_list_shows_number_date_customer_status_payment_and_total(merchant_client):
    with schema_context("acme"):
        buyer = UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper")
    order = an_order(customer_id=buyer.pk, email="grace@example.test")
    guest = an_order(email="guest@example.test")
    content = page(merchant_client.get(ORDERS))
    row = content.split(f">#{order.number}</a>", 1)[1].split("</tr>", 1)[0]
    assert "Grace Hopper" in row and "grace@example.test" in row
    assert "Pending" in row and "Unpaid" in row and "25.00 USD" in row
    assert "<time" in row
    guest_row = content.split(f">#{guest.number}</a>", 1)[1].split("</tr>", 1)[0]
    assert "guest@example.test" in guest_row and "guest" in guest_row
    # Newest first; nothing to add.
    assert content.index(f">#{guest.number}<") < content.index(f">#{order.number}<")
    assert f'href="{ORDERS}add/"' not in content
    assert merchant_client.get(f"{ORDERS}add/").status_code == 403


def test_the_list_filters_by_status_payment_status_provider_and_date(merchant_client):
    pending = an_order()
    confirmed = an_order(payment_provider="test_card")
    with schema_context("acme"):
        orders.order_confirm(order_id=confirmed.pk)
    paid = an_order()
    with schema_context("acme"):
        orders.order_mark_paid(order_id=paid.pk, reference="PAY-1", amount=Decimal("25.00"))

    def numbers(**query) -> set[int]:
        content = page(merchant_client.get(ORDERS, query))
        return {int(n) for n in re.findall(r'class="list-title" href="[^"]+">#(\d+)<', content)}

    assert numbers(status="confirmed") == {confirmed.number}
    assert numbers(status="pending") == {pending.number}
    assert numbers(payment_status="paid") == {paid.number}
    assert numbers(payment_provider="test_card") == {confirmed.number}
    today = timezone.localdate()
    assert numbers(placed_at__year=today.year, placed_at__month=today.month) == {
        pending.number, confirmed.number, paid.number,
    }  # fmt: skip
    assert numbers(placed_at__year=today.year - 1) == set()


def test_the_list_searches_by_number_email_and_checkout_reference(merchant_client):
    first = an_order(email="ada@example.test", checkout_reference="chk-ada")
    second = an_order(email="bob@example.test", checkout_reference="chk-bob")
    for term, expected in (
        (f"#{first.number}", first), (str(second.number), second), ("bob@example", second),
        ("chk-ada", first),
    ):  # fmt: skip
        content = page(merchant_client.get(ORDERS, {"q": term}))
        assert rows(content) == 1 and f">#{expected.number}<" in content, term
    assert rows(page(merchant_client.get(ORDERS, {"q": "nobody"}))) == 0


# -- the order's page --------------------------------------------------------------------------


def test_the_page_shows_lines_addresses_totals_and_the_timeline_newest_last(merchant_client, clock):
    order = an_order(lines=2)
    with schema_context("acme"):
        orders.order_confirm(order_id=order.pk, actor=UserFactory(email="m@acme.test"))
    content = page(merchant_client.get(order_url(order)))
    lines = content.split('class="order-lines"', 1)[1].split("</table>", 1)[0]
    assert lines.count("GONE-1") == 2 and "Linen shirt" in lines
    assert "1 Analytical Way" in content and "N1 1AA London" in content
    assert "45.00 USD" in content  # 2 lines of 2 x 10.00, and 5.00 shipping
    timeline = content.split('class="order-timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.index("Placed") < timeline.index("Confirmed")
    assert "m@acme.test" in timeline  # the actor's label
    assert "<details>" in timeline and "&quot;from_status&quot;: &quot;pending&quot;" in timeline
    # The row is a projection: nothing on the page saves it.
    assert 'name="_save"' not in content
    assert merchant_client.post(order_url(order), {"email": "x@example.test"}).status_code == 403


@pytest.mark.parametrize(
    ("steps", "offered"),
    [
        ([], {"confirm", "mark_paid", "cancel"}),
        (["confirm"], {"mark_paid", "cancel"}),
        (["confirm", "mark_paid"], {"ship", "refund"}),
        (["confirm", "mark_paid", "ship"], {"deliver", "refund"}),
        (["cancel"], set()),
    ],
)
def test_the_page_offers_the_transitions_of_the_orders_status(merchant_client, steps, offered):
    order = an_order()
    data = {"mark_paid": {"reference": "PAY", "amount": Decimal("25.00")},
            "ship": {"carrier": "DHL", "tracking_number": "1Z"}}  # fmt: skip
    with schema_context("acme"):
        for step in steps:
            orders.order_transition(order_id=order.pk, action=step, **data.get(step, {}))
    content = page(merchant_client.get(order_url(order)))
    assert in_transitions(content) == offered
    if "mark_paid" in offered:
        form = content.split('data-action="mark_paid"', 1)[1].split("</form>", 1)[0]
        assert 'name="mark_paid-reference"' in form and 'value="25.00' in form
        assert f'name="mark_paid-expected_version" value="{len(steps) + 1}"' in form


def test_each_transition_through_the_admin_forms(merchant_client):
    order = an_order()
    response = take(merchant_client, order, "confirm")
    assert messages_of(response) == [f"Order #{order.number} was confirmed."]
    response = take(merchant_client, order, "mark_paid", reference="PAY-9", amount="25.00")
    assert messages_of(response) == [f"Order #{order.number} was marked as paid."]
    take(merchant_client, order, "ship", carrier="DHL", tracking_number="1Z999")
    take(merchant_client, order, "deliver")
    row = reloaded(order)
    assert (row.status, row.payment_status, row.payment_reference) == ("delivered", "paid", "PAY-9")
    assert (row.carrier, row.tracking_number, row.version) == ("DHL", "1Z999", 5)
    # The stream says who did it.
    with schema_context("acme"):
        assert {e.actor_label for e in orders.order_stream(order.pk)[1:]} == {"merchant@acme.test"}


def test_a_cancel_takes_its_reason(merchant_client):
    order = an_order()
    response = take(merchant_client, order, "cancel", reason="Customer asked")
    assert messages_of(response) == [f"Order #{order.number} was cancelled."]
    row = reloaded(order)
    assert (row.status, row.cancel_reason) == ("cancelled", "Customer asked")
    content = page(merchant_client.get(order_url(order)))
    assert "Customer asked" in content.split('class="order-timeline"', 1)[0]  # its field
    assert in_transitions(content) == set()


def test_refunds_in_parts_then_the_rest_and_never_more(merchant_client):
    order = an_order()
    with schema_context("acme"):
        orders.order_mark_paid(order_id=order.pk, reference="PAY", amount=Decimal("25.00"))
    response = take(merchant_client, order, "refund", amount="10.00", reason="Damaged")
    assert messages_of(response) == [f"Order #{order.number} was refunded."]
    row = reloaded(order)
    assert (row.status, row.payment_status, row.refunded_amount) == (
        "paid", "partially_refunded", Decimal("10.00"),
    )  # fmt: skip
    response = take(merchant_client, order, "refund", amount="15.01")
    (message,) = messages_of(response)
    assert message.startswith(f"Order #{order.number} was not refunded: amount:")
    assert "15.00 USD" in message
    assert reloaded(order).refunded_amount == Decimal("10.00")
    take(merchant_client, order, "refund", amount="15.00")
    row = reloaded(order)
    assert (row.status, row.payment_status) == ("refunded", "refunded")


def test_a_guard_refusal_is_a_message_and_changes_nothing(merchant_client):
    order = an_order()
    response = take(merchant_client, order, "mark_paid", reference="PAY", amount="24.00")
    (message,) = messages_of(response)
    assert message.startswith(f"Order #{order.number} was not marked as paid: amount:")
    response = take(merchant_client, order, "ship", carrier="DHL", tracking_number="1Z")
    (message,) = messages_of(response)
    assert "cannot be shipped" in message
    response = take(merchant_client, order, "mark_paid", amount="25.00")  # no reference
    (message,) = messages_of(response)
    assert "payment reference" in message
    assert reloaded(order).version == 1
    assert merchant_client.post(order_url(order, "transition/explode/")).status_code == 404


def test_a_stale_page_is_told_to_reload_and_changes_nothing(merchant_client):
    order = an_order()
    with schema_context("acme"):
        orders.order_confirm(order_id=order.pk)  # someone else, after the page was shown
    response = take(merchant_client, order, "cancel", version=1, reason="Too late")
    assert messages_of(response) == ["This order changed meanwhile; reload."]
    row = reloaded(order)
    assert (row.status, row.version) == ("confirmed", 2)


# -- as of a moment ----------------------------------------------------------------------------


def test_the_order_as_of_a_past_moment_shows_its_state_then(merchant_client, clock):
    order = an_order()  # placed at t1
    with schema_context("acme"):
        orders.order_confirm(order_id=order.pk)  # t2
        orders.order_mark_paid(order_id=order.pk, reference="PAY-1", amount=Decimal("25.00"))  # t3
        stream = orders.order_stream(order.pk)
    between = stream[1].occurred_at + timedelta(seconds=30)
    content = page(merchant_client.get(order_url(order, "as-of/"), {"at": between.isoformat()}))
    state = content.split('id="as-of-state"', 1)[1]
    assert re.search(r'id="as-of-status">Confirmed<', state)
    assert re.search(r'id="as-of-payment-status">Unpaid<', state)
    timeline = state.split('class="order-timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count('class="order-event"') == 2 and "PAY-1" not in timeline
    # At the last event: paid.
    last = stream[-1].occurred_at.isoformat()
    now = page(merchant_client.get(order_url(order, "as-of/"), {"at": last}))
    assert 'id="as-of-status">Paid<' in now
    # A naive time is the current time zone's; the page links here from the order.
    local = timezone.localtime(between).replace(tzinfo=None).isoformat(timespec="seconds")
    assert 'id="as-of-status">Confirmed<' in page(
        merchant_client.get(order_url(order, "as-of/"), {"at": local})
    )
    assert order_url(order, "as-of/") in page(merchant_client.get(order_url(order)))


def test_as_of_a_time_before_placement_or_no_time_says_so(merchant_client, clock):
    order = an_order()
    url = order_url(order, "as-of/")
    before = reloaded(order).placed_at - timedelta(days=1)
    content = page(merchant_client.get(url, {"at": before.isoformat()}))
    assert 'id="as-of-problem"' in content and "had not been placed yet" in content
    assert 'id="as-of-state"' not in content
    content = page(merchant_client.get(url, {"at": "yesterday"}))
    assert "“yesterday” is not a date and time" in content
    content = page(merchant_client.get(url))
    assert 'type="datetime-local"' in content and 'id="as-of-problem"' not in content


# -- who may ----------------------------------------------------------------------------------


def test_an_editor_gets_403_on_orders_and_customers(acme_client):
    order = an_order()
    login(acme_client, email="editor@acme.test", groups=["Editor"])
    for url in (ORDERS, order_url(order), order_url(order, "as-of/"), CUSTOMERS):
        assert acme_client.get(url).status_code == 403, url
    response = acme_client.post(
        order_url(order, "transition/confirm/"), {"confirm-expected_version": 1}
    )
    assert response.status_code == 403
    assert reloaded(order).status == "pending"


def test_another_tenants_order_is_a_404(merchant_client):
    with schema_context("globex"):
        theirs = place()
    assert merchant_client.get(order_url(theirs)).status_code == 404
    response = merchant_client.post(
        order_url(theirs, "transition/confirm/"), {"confirm-expected_version": 1}
    )
    assert response.status_code == 404
    assert merchant_client.get(order_url(theirs, "as-of/")).status_code == 404


def test_an_acme_customer_and_their_orders_are_not_in_globexs_admin(globex_client):
    with schema_context("globex"):
        hal = UserFactory(email="hal@globex.test")  # globex's own customer
        # An id no globex user has: grace's page must not find someone else there either.
        free_id = get_user_model().objects.aggregate(top=Max("pk"))["top"] + 1000
    with schema_context("acme"):
        grace = UserFactory(id=free_id, email="grace@example.test", first_name="Grace")
    graces = an_order(customer_id=grace.pk, email=grace.email)
    login(globex_client, schema="globex", email="merchant@globex.test", groups=["Merchant"])
    listing = page(globex_client.get(CUSTOMERS))
    assert "hal@globex.test" in listing and "grace@example.test" not in listing
    assert "grace@example.test" not in page(globex_client.get(CUSTOMERS, {"q": "grace"}))
    response = globex_client.get(f"{CUSTOMERS}{grace.pk}/change/")
    assert response.status_code == 404
    assert "grace@example.test" not in response.content.decode()
    assert "hal@globex.test" in page(globex_client.get(f"{CUSTOMERS}{hal.pk}/change/"))
    assert globex_client.get(order_url(graces)).status_code == 404
    assert rows(page(globex_client.get(ORDERS))) == 0


# -- customers ---------------------------------------------------------------------------------


def test_customers_are_the_non_staff_accounts_with_their_order_counts(
    merchant_client, django_assert_num_queries
):
    with schema_context("acme"):
        grace = UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper")
        alan = UserFactory(email="alan@example.test")
        extra = [UserFactory(email=f"c{n}@example.test") for n in range(10)]
    for _ in range(3):
        an_order(customer_id=grace.pk, email=grace.email)
    an_order(customer_id=alan.pk, email=alan.email)
    merchant_client.get(CUSTOMERS)
    with django_assert_num_queries(6):  # session, user, permissions x2, the count, the rows
        content = page(merchant_client.get(CUSTOMERS))
    content = content.split('id="result_list"', 1)[1].split("</table>", 1)[0]
    assert "merchant@acme.test" not in content and "admin@acme.test" not in content
    assert content.count('class="field-email"') == 2 + len(extra)
    grace_row = content.split("grace@example.test", 1)[1].split("</tr>", 1)[0]
    assert "Grace Hopper" in grace_row and '<td class="field-orders_count">3</td>' in grace_row
    alan_row = content.split("alan@example.test", 1)[1].split("</tr>", 1)[0]
    assert '<td class="field-orders_count">1</td>' in alan_row
    assert merchant_client.get(f"{CUSTOMERS}add/").status_code == 403


def test_a_customers_page_lists_their_orders_and_a_staff_user_is_no_customer(
    merchant_client, merchant
):
    with schema_context("acme"):
        grace = UserFactory(email="grace@example.test")
    first, second = an_order(customer_id=grace.pk), an_order(customer_id=grace.pk)
    an_order()  # someone else's
    content = page(merchant_client.get(f"{CUSTOMERS}{grace.pk}/change/"))
    table = content.split('class="customer-orders"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 3  # the header and two orders
    assert table.index(f">#{second.number}<") < table.index(f">#{first.number}<")
    assert 'name="_save"' not in content
    assert merchant_client.get(f"{CUSTOMERS}{merchant.pk}/change/").status_code == 404
    assert merchant_client.get(f"{CUSTOMERS}{grace.pk}/delete/").status_code == 403


# -- in German -------------------------------------------------------------------------------


@pytest.mark.usefixtures("compiled_messages")
def test_a_german_merchant_reads_the_orders_admin_in_german(merchant_client):
    order = an_order()
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}
    listing = page(merchant_client.get(ORDERS, **german))
    assert "Bestellungen" in listing and "Unbezahlt" in listing
    content = page(merchant_client.get(order_url(order), **german))
    assert "Verlauf" in content and "Nächste Schritte" in content and "Bestätigen" in content
    assert "Aufgegeben" in content  # the timeline's first event
    fields = {"confirm-expected_version": 1}
    response = merchant_client.post(
        order_url(order, "transition/confirm/"), fields, follow=True, **german
    )
    assert messages_of(response) == [f"Bestellung #{order.number} wurde bestätigt."]
    response = merchant_client.post(
        order_url(order, "transition/cancel/"), {"cancel-expected_version": 1}, follow=True,
        **german,
    )  # fmt: skip
    assert messages_of(response) == ["Diese Bestellung wurde inzwischen geändert; bitte neu laden."]
    problem = page(merchant_client.get(order_url(order, "as-of/"), {"at": "gestern"}, **german))
    assert "„gestern“ ist kein Datum mit Uhrzeit" in problem


@pytest.mark.parametrize("lines", [3, 30])
def test_the_order_page_costs_the_same_queries_for_3_and_30_lines_and_events(
    merchant_client, django_assert_num_queries, lines
):
    with schema_context("acme"):
        buyer = UserFactory(email="buyer@example.test")
    order = an_order(lines=lines, customer_id=buyer.pk)
    act = {"reference": "PAY", "amount": Decimal(str(20 * lines + 5))}
    with schema_context("acme"):
        orders.order_mark_paid(order_id=order.pk, **act)
        for _ in range(lines):
            orders.order_refund(order_id=order.pk, amount=Decimal("0.01"))
    merchant_client.get(order_url(order))
    # session, user, permissions x2, the order (with its customer) and its lines, read for
    # the page and again by the admin's view, its emails and the stream.
    with django_assert_num_queries(10):
        content = page(merchant_client.get(order_url(order)))
    assert content.count('class="order-event"') == lines + 2


# -- the order's emails ------------------------------------------------------------------------

EMAILS = f"{ADMIN}orderemail/"


def an_email(order: Order, **state) -> OrderEmail:
    """The order's confirmation as the handler writes it, then ``state`` (what came of it)."""
    with schema_context("acme"):
        order_emails.order_email_send(order_id=order.pk, kind="confirmation", event_id=uuid4())
        email = OrderEmail.objects.get(order=order)
        OrderEmail.objects.filter(pk=email.pk).update(**state)
        email.refresh_from_db()
        return email


def test_the_order_page_says_what_became_of_each_email_and_sends_one_again(
    merchant_client, mailoutbox
):
    order = an_order(email="grace@example.test")
    an_email(order, attempts=5, next_attempt_at=None, last_error="SMTPDataError: 554 refused")
    content = page(merchant_client.get(order_url(order)))
    [row] = re.findall(r'<tr class="order-email"[^>]*>.*?</tr>', content, re.S)
    assert 'data-state="not_sent"' in row and "grace@example.test" in row
    assert "Not sent after 5 attempts (SMTPDataError: 554 refused)." in row
    send = re.search(r'<form method="post" action="([^"]+/send/)"', row).group(1)

    response = merchant_client.post(send, follow=True)
    assert messages_of(response) == [
        f"Order confirmation of order #{order.number} sent again to grace@example.test."
    ]
    [message] = mailoutbox
    assert message.to == ["grace@example.test"]
    with schema_context("acme"):
        email = OrderEmail.objects.get(order=order)
    assert (email.state, email.attempts, email.last_error) == ("sent", 1, "")
    sent_row = re.search(r'<tr class="order-email".*?</tr>', page(response), re.S).group(0)
    assert "Sent <time" in sent_row and "&lt;" not in sent_row


def test_the_email_list_finds_the_unsent_ones_and_sends_them_again(merchant_client, mailoutbox):
    sent, waiting, failed = (an_order(email=f"b{n}@example.test") for n in range(3))
    an_email(sent, sent_at=timezone.now(), next_attempt_at=None)
    an_email(waiting, attempts=2, last_error="TimeoutError: timed out")
    an_email(failed, attempts=5, next_attempt_at=None, last_error="SMTPRecipientsRefused: 550")
    listed = page(merchant_client.get(EMAILS, {"state": "not_sent"}))
    assert f"#{failed.number}" in listed
    assert f"#{sent.number}" not in listed and f"#{waiting.number}" not in listed
    assert "SMTPRecipientsRefused: 550" in listed
    assert f"#{waiting.number}" in page(merchant_client.get(EMAILS, {"state": "waiting"}))
    every = page(merchant_client.get(EMAILS))
    assert every.count('<time class="nowrap"') >= 4 and "&lt;time" not in every

    with schema_context("acme"):
        picked = [OrderEmail.objects.get(order=order).pk for order in (sent, failed)]
        # One more that is on its way to the mail server now: left as it is.
        busy = an_email(an_order(email="b3@example.test")).pk
    response = merchant_client.post(
        EMAILS, {"action": "send_again", "_selected_action": [*picked, busy]}, follow=True
    )
    assert messages_of(response) == [
        "2 emails will be sent within a minute.",
        "1 email is being sent already and was left as it is.",
    ]
    assert mailoutbox == []  # the request sends nothing: beat does
    with schema_context("acme"):
        queued = OrderEmail.objects.filter(pk__in=picked)
        assert {(e.state, e.attempts, e.last_error) for e in queued} == {("waiting", 0, "")}
        assert commerce_tasks.retry_order_emails(now=timezone.now()) == 2
    assert sorted(message.to[0] for message in mailoutbox) == ["b0@example.test", "b2@example.test"]


def test_who_may_not_change_orders_sees_emails_but_cannot_send_them(acme_client, mailoutbox):
    order = an_order()
    an_email(order, next_attempt_at=None)
    with schema_context("acme"):
        viewer = login(acme_client, email="viewer@acme.test", groups=[])
        viewer.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_order", "view_orderemail"])
        )
        pk = OrderEmail.objects.get(order=order).pk
    content = page(acme_client.get(order_url(order)))
    assert 'class="order-email"' in content and "/send/" not in content
    assert acme_client.post(order_url(order, f"emails/{pk}/send/")).status_code == 403
    listed = acme_client.get(EMAILS)
    assert "send_again" not in page(listed)
    assert mailoutbox == []


def test_another_orders_or_tenants_email_is_a_404(merchant_client, mailoutbox):
    mine, other = an_order(), an_order()
    theirs_pk = an_email(other).pk
    assert merchant_client.post(order_url(mine, f"emails/{theirs_pk}/send/")).status_code == 404
    with schema_context("globex"):
        globex_order = place()
        order_emails.order_email_send(
            order_id=globex_order.pk, kind="confirmation", event_id=uuid4()
        )
        globex_email = OrderEmail.objects.get(order=globex_order).pk
    # globex's email by its id, on an acme order with no email of that id: not found.
    with schema_context("acme"):
        assert not OrderEmail.objects.filter(pk=globex_email).exists()
    assert merchant_client.post(order_url(mine, f"emails/{globex_email}/send/")).status_code == 404
    assert merchant_client.post(order_url(globex_order, "emails/1/send/")).status_code == 404
    assert mailoutbox == []


def test_an_email_being_sent_is_not_sent_again_beside_it(merchant_client, mailoutbox):
    order = an_order()
    an_email(order)  # handed to the mail server, no answer yet
    content = page(merchant_client.get(order_url(order)))
    [row] = re.findall(r'<tr class="order-email"[^>]*>.*?</tr>', content, re.S)
    assert "Being sent (attempt 1); checked again" in row
    send = re.search(r'<form method="post" action="([^"]+/send/)"', row).group(1)
    response = merchant_client.post(send, follow=True)
    [said] = messages_of(response)
    assert said.startswith("This email is being sent; if it has not gone out, send it again")
    assert mailoutbox == []
