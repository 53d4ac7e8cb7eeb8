"""The shop in the module registry: its switch, its checkout, the card gateway it depends on."""

from __future__ import annotations

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy

from apps.core.modules import Dependency, Mode, Module, register_dependency, register_module

from .payments.test_card import BREAKER as GATEWAY_BREAKER


def _gateway() -> None:
    """The card gateway answers its health route (skipped when card payments are off)."""
    if "test_card" not in settings.PAYMENT_PROVIDERS:
        return
    url = settings.TEST_CARD_GATEWAY_URL.rstrip("/") + "/health"
    response = requests.get(url, timeout=(0.5, 0.5))
    response.raise_for_status()


def register() -> None:
    register_dependency(Dependency("payments", _gateway, breakers=(GATEWAY_BREAKER,)))
    register_module(
        Module(
            "shop",
            gettext_lazy("Shop"),
            switch="shop",
            paths=(
                "/shop/",
                "/cart/",
                "/checkout/",
                "/account/orders/",
                "/api/v1/commerce/",
                "/admin/commerce/",
            ),
        ),
        switch_label=gettext_lazy("Shop"),
    )
    # Checkout takes payments: while the gateway's breaker is open it takes no orders (its
    # pages still show), and the rest of the shop goes on.
    register_module(
        Module(
            "checkout",
            gettext_lazy("Checkout"),
            switch="shop",
            paths=("/checkout/", "/api/v1/commerce/carts/"),
            depends_on=("payments",),
            fallback=Mode.READ_ONLY,
        )
    )
