"""The demo shops' customers and orders: three customers with an address each, and an order
in every state an order can be in, so the merchants' admin, the account pages and the API
have something to show.

Orders are placed the way a shopper places them (a cart, the checkout's steps, the held
stock, ``checkout_place_order`` paying by bank transfer) and then moved on the way a
merchant moves them (``orders``' services), so each has its own stream of events. Paying
refuses to run inside a transaction: this runs on committed data, one service call at a
time. Running it again writes nothing: customers are found by their email, and a shop that
has any order gets no more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection

from apps.commerce import carts, checkout, checkout_selectors, orders, placement
from apps.commerce import selectors as shop
from apps.people import services as people

if TYPE_CHECKING:
    from .demo import SeedReport


@dataclass(frozen=True)
class DemoCustomer:
    handle: str  # the login is <handle>@<tenant>.test
    display_name: str
    locale: str
    address: dict[str, str]


# fmt: off
CUSTOMERS = {
    "acme": (
        DemoCustomer("lena", "Lena Fischer", "de", {
            "name": "Lena Fischer", "street": "Kastanienallee 12", "city": "Berlin",
            "postal_code": "10435", "country": "DE", "phone": "+49 30 1234567"}),
        DemoCustomer("tobias", "Tobias Gruber", "de", {
            "name": "Tobias Gruber", "street": "Mariahilfer Straße 45", "city": "Wien",
            "postal_code": "1060", "country": "AT"}),
        DemoCustomer("claire", "Claire M.", "en", {
            "name": "Claire Martin", "street": "18 rue des Martyrs", "city": "Paris",
            "postal_code": "75009", "country": "FR"}),
    ),
    "globex": (
        DemoCustomer("maya", "Maya Chen", "en", {
            "name": "Maya Chen", "street": "350 Fifth Avenue", "city": "New York",
            "postal_code": "10118", "region": "NY", "country": "US"}),
        DemoCustomer("noah", "Noah Brandt", "de", {
            "name": "Noah Brandt", "street": "Schanzenstraße 7", "city": "Hamburg",
            "postal_code": "20357", "country": "DE"}),
        DemoCustomer("olivia", "Olivia B.", "en", {
            "name": "Olivia Brown", "street": "221 Baker Street", "city": "London",
            "postal_code": "NW1 6XE", "country": "GB"}),
    ),
}
GUEST = ("sam.guest@example.org", "en", {
    "name": "Sam Weber", "street": "Heidestraße 17", "city": "Köln", "postal_code": "51147",
    "country": "DE"})
# fmt: on


def _login(customer: DemoCustomer, slug: str) -> tuple[str, str]:
    return f"{customer.handle}@{slug}.test", f"{slug}-customer-pass"


def customer_logins(slug: str) -> list[tuple[str, str]]:
    """The demo customers' logins of tenant ``slug`` (email, password); none for others."""
    return [_login(customer, slug) for customer in CUSTOMERS.get(slug, ())]


def seed_customers(*, slug: str, report: SeedReport) -> list:
    """The tenant's demo customers (signed up, with their address), made once."""
    made = []
    for customer in CUSTOMERS.get(slug, ()):
        email, password = _login(customer, slug)
        user = shop.customers().filter(username=email).first()
        if user is None:
            user = people.customer_sign_up(
                email=email, password=password, display_name=customer.display_name,
                locale=customer.locale,
            )  # fmt: skip
            people.address_create(
                user_id=user.pk, data=customer.address, actor=people.customer_actor(user)
            )
            report.created.append(f"customer {email}")
        else:
            report.kept.append(f"customer {email}")
        made.append(user)
    return made


# -- orders -----------------------------------------------------------------------------------

# What a merchant did with each order after it was placed: (action, data) steps.
Step = tuple[str, dict]
PAID = ("mark_paid", {})  # the reference and the amount are the order's own
SHIPPED = ("ship", {"carrier": "DHL", "tracking_number": "00340434161094042557"})
DELIVERED = ("deliver", {})


@dataclass(frozen=True)
class DemoOrder:
    customer: int | None  # an index into the tenant's customers; None: a guest
    lines: tuple[tuple[str, int, int], ...]  # (product handle, variant position, quantity)
    steps: tuple[Step, ...]


# fmt: off
ORDERS = {
    "acme": (
        DemoOrder(0, (("ridgeline-2-tent", 0, 1), ("titanium-mug", 0, 2)), ()),
        DemoOrder(1, (("merino-base-layer", 1, 2),), (("confirm", {}),)),
        DemoOrder(2, (("trailhead-30-pack", 1, 1),), (("confirm", {}), PAID)),
        DemoOrder(0, (("headlamp-400", 0, 1), ("wool-hiking-socks", 2, 3)), (PAID, SHIPPED)),
        DemoOrder(1, (("summit-down-jacket", 2, 1),), (PAID, SHIPPED, DELIVERED)),
        DemoOrder(None, (("camp-stove-duo", 0, 1),),
                  (("cancel", {"reason": "Ordered twice by mistake."}),)),
        DemoOrder(2, (("insulated-bottle", 1, 2), ("trekking-poles", 0, 1)),
                  (PAID, SHIPPED, DELIVERED,
                   ("refund", {"amount": "35.00", "reason": "One bottle arrived dented."}))),
        DemoOrder(0, (("storm-shell-jacket", 1, 1),),
                  (PAID, ("refund", {"amount": "all", "reason": "Returned unworn."}))),
    ),
    "globex": (
        DemoOrder(0, (("harbour-at-dawn-print", 0, 1), ("the-long-walk", 0, 1)), ()),
        DemoOrder(1, (("the-long-walk", 1, 1),), (("confirm", {}),)),
        DemoOrder(2, (("field-notes-anthology", 1, 1),), (("confirm", {}), PAID)),
        DemoOrder(0, (("city-lines-print", 0, 1), ("journal-tote-bag", 0, 1)), (PAID, SHIPPED)),
        DemoOrder(1, (("slow-mornings", 0, 2),), (PAID, SHIPPED, DELIVERED)),
        DemoOrder(None, (("northern-lights-print", 1, 1),),
                  (("cancel", {"reason": "Ordered twice by mistake."}),)),
        DemoOrder(2, (("journal-t-shirt", 0, 2), ("botanical-study-print", 0, 1)),
                  (PAID, SHIPPED, DELIVERED,
                   ("refund", {"amount": "29.00", "reason": "One T-shirt was the wrong size."}))),
        DemoOrder(0, (("harbour-at-dawn-print", 3, 1),),
                  (PAID, ("refund", {"amount": "all", "reason": "Bought by mistake."}))),
    ),
}
# fmt: on


def _variant_id(handle: str, position: int):
    product = shop.product_by_handle(handle)
    return sorted(product.variants.all(), key=lambda variant: variant.position)[position].pk


def _place(order: DemoOrder, *, slug: str, customers: list, currency: str):
    """Place ``order`` as its shopper would, paying by bank transfer (``manual``)."""
    if order.customer is None:
        customer, (email, locale, address) = None, GUEST
        actor = None
    else:
        customer = customers[order.customer]
        spec = CUSTOMERS[slug][order.customer]
        email, locale, address = customer.email, spec.locale, spec.address
        actor = people.customer_actor(customer)
    cart = carts.cart_for(
        token=None, customer_id=customer.pk if customer else None, currency=currency,
        locale=locale, create=True,
    )  # fmt: skip
    for handle, position, quantity in order.lines:
        carts.cart_add(
            cart_id=cart.pk, variant_id=_variant_id(handle, position), quantity=quantity,
            actor=actor,
        )  # fmt: skip
    started = checkout.checkout_start(cart_id=cart.pk, email=email, actor=actor)
    checkout.checkout_set_address(checkout_id=started.pk, address=address, actor=actor)
    method = checkout_selectors.shipping_options(address["country"], currency)[0].method
    checkout.checkout_set_shipping(checkout_id=started.pk, method_id=method.pk, actor=actor)
    checkout.checkout_reserve(checkout_id=started.pk, actor=actor)
    return placement.checkout_place_order(
        checkout_id=started.pk, provider_code="manual", actor=actor
    )


def _step_data(placed, action: str, data: dict) -> dict:
    if action == "mark_paid":
        return {"reference": f"BANK-{placed.number}", "amount": placed.total}
    if data.get("amount") == "all":
        return {**data, "amount": placed.total}
    return data


def seed_orders(*, slug: str, customers: list, report: SeedReport) -> None:
    """The tenant's demo orders, one in each state, unless the shop has orders already."""
    plans = ORDERS.get(slug)
    if plans is None:
        return
    if shop.orders().exists():
        report.kept.append("orders")
        return
    if connection.in_atomic_block:
        raise RuntimeError("demo orders are paid for: seed them outside transaction.atomic()")
    currency = shop.store_settings().default_currency
    for plan in plans:
        placed = _place(plan, slug=slug, customers=customers, currency=currency)
        for action, data in plan.steps:
            orders.order_transition(
                order_id=placed.pk, action=action, **_step_data(placed, action, data)
            )
        report.created.append(f"order #{placed.number}")


def seed_customers_and_orders(*, slug: str, report: SeedReport) -> None:
    customers = seed_customers(slug=slug, report=report)
    seed_orders(slug=slug, customers=customers, report=report)
