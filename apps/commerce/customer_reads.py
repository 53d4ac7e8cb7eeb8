"""Reads of customers (storefront accounts) for the merchants' admin and the API.

Re-exported by ``selectors``. A customer's name comes from people's selectors; the login
email is shown to the shop's staff only (the admin, the staff-only API), never the public.
"""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from apps.people.selectors import PROFILE, display_name

from .errors import CustomerNotFound
from .models import Customer, Order


def customers() -> QuerySet[Customer]:
    """Every storefront account (never staff), newest first, each with ``orders_count``."""
    return (
        Customer.objects.select_related(PROFILE)
        .annotate(orders_count=Count("orders"))
        .order_by("-date_joined", "-pk")
    )


def customer_get(customer_id: int | str) -> Customer:
    """The customer with ``orders_count``; ``CustomerNotFound`` for a staff user or none."""
    try:
        key = int(customer_id)
    except (TypeError, ValueError):
        key = None
    customer = customers().filter(pk=key).first() if key is not None else None
    if customer is None:
        raise CustomerNotFound(_("No such customer."))
    return customer


def customer_name(customer) -> str:
    """What the staff see for a customer: the display name, else the email."""
    return display_name(customer) or customer.email


def customer_orders(customer_id: int) -> QuerySet[Order]:
    """The customer's orders, newest first."""
    return Order.objects.filter(customer_id=customer_id).order_by("-placed_at", "-pk")
