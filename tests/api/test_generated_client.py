"""An integrator's script, run through a Python client generated from the committed OpenAPI
schema (``docs/openapi.yaml``) with ``openapi-python-client``.

If the generated client cannot say something an integration needs, the schema is wrong:
this is where that shows. The client talks HTTP to the platform's WSGI application in this
process (httpx's WSGI transport), on committed data, as the tenant's host would be reached.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django_tenants.utils import schema_context
from standardwebhooks.webhooks import Webhook

from apps.events.relay import drain
from apps.webhooks import services as webhooks
from tests.commerce.checkout_factories import GERMAN_ADDRESS
from tests.commerce.test_placement import VISA, placing  # noqa: F401 (fixture)
from tests.index.support import wipe_tables
from tests.webhooks.conftest import receiver, receivers  # noqa: F401 (fixtures)

from .test_api_keys import make_key, staff_owner

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docs" / "openapi.yaml"
PACKAGE = "platform_api"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The client package, generated from the committed schema for this run."""
    where = tmp_path_factory.mktemp("client")
    config = where / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(SCHEMA),
            "--output-path",
            str(where / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout  # every operation could be generated
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _client(api, secret: str):
    base = f"http://acme.{settings.TENANT_BASE_DOMAIN}"
    transport = httpx.WSGITransport(app=get_wsgi_application())
    return api.AuthenticatedClient(
        base_url=base,
        token=secret,
        raise_on_unexpected_status=True,
        httpx_args={"transport": transport},
    )


def _call(operation: str, *args, **kwargs):
    """Run the generated ``operation`` (``commerce_products_create``: its module, named by its
    tag and operation id) and return its parsed answer, which must be a success."""
    group = operation.split("_", 1)[0]
    module = importlib.import_module(f"{PACKAGE}.api.{group}.{operation}")
    response = module.sync_detailed(*args, **kwargs)
    assert 200 <= response.status_code < 300, (operation, response.status_code, response.content)
    return response.parsed


@pytest.fixture
def keys(placing):  # noqa: F811
    """A secret and a publishable key of acme's administrator (committed, and gone after)."""
    owner = staff_owner(email="integration-script@acme.test", is_superuser=True)
    scopes = ["commerce:read", "commerce:write", "events:read", "webhooks:read", "webhooks:write"]
    _, secret = make_key(owner, scopes=scopes)
    _, publishable = make_key(owner, kind="publishable", scopes=[])
    yield secret, publishable
    wipe_tables(
        "api_idempotentresponse, webhooks_webhookattempt, webhooks_webhookdelivery, "
        "webhooks_webhookendpoint"
    )
    with schema_context("acme"):
        owner.delete()  # and its keys


def test_an_integration_through_the_generated_client(api, keys, placing, receiver, settings):  # noqa: F811
    from platform_api import models  # generated for this run
    from platform_api.types import UNSET

    settings.WEBHOOKS_ALLOW_HTTP = settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True  # local
    server, shopper = (_client(api, key) for key in keys)

    # The merchant's server asks for the orders' events at its (local) receiver.
    endpoint = _call(
        "webhooks_endpoints_create",
        client=server,
        idempotency_key=str(uuid.uuid4()),
        body=models.EndpointCreateInRequest(url=receiver.url, event_types=["commerce.order.*"]),
    )
    assert endpoint.secret.startswith("whsec_")

    # The secret key makes a product, its variant, its price and its stock, and activates it.
    product = _call(
        "commerce_products_create",
        client=server,
        idempotency_key=str(uuid.uuid4()),
        body=models.ProductCreateInRequest(title="Trail socks", vendor="Acme"),
    )
    variant = _call(
        "commerce_variants_create",
        client=server,
        body=models.VariantCreateInRequest(sku="SOCK-1", product=product.id),
    )
    for currency, amount in (("USD", "21.00"), ("EUR", "19.00")):
        _call(
            "commerce_variants_prices_update",
            variant.id,
            currency,
            client=server,
            body=models.PriceInRequest(amount=amount),
        )
    location = _call(
        "commerce_locations_create",
        client=server,
        body=models.LocationCreateInRequest(code="main", name="Main warehouse"),
    )
    _call(
        "commerce_inventory_set_create",
        client=server,
        body=models.StockSetInRequest(variant=variant.id, location=location.id, on_hand=10),
    )
    _call("commerce_products_activate_create", product.id, client=server)

    # The publishable key reads it, as a headless storefront would.
    seen = _call("commerce_products_retrieve", product.id, client=shopper)
    assert (seen.title, seen.status) == ("Trail socks", models.ProductStatusEnum.ACTIVE)

    # ... and buys two pairs through the headless checkout, paying by card.
    cart = _call(
        "commerce_carts_create",
        client=shopper,
        body=models.CartCreateInRequest(currency="EUR", locale="en"),
    )
    _call(
        "commerce_carts_lines_create",
        cart.token,
        client=shopper,
        body=models.CartLineAddInRequest(variant=variant.id, quantity=2),
    )
    checkout = _call(
        "commerce_carts_checkout_partial_update",
        cart.token,
        client=shopper,
        body=models.PatchedCheckoutUpdateInRequest.from_dict(
            {
                "email": "erika@example.com",
                "shipping_address": GERMAN_ADDRESS,
                "shipping_method": placing["method"].pk,
            }
        ),
    )
    assert checkout.email == "erika@example.com"
    _call("commerce_carts_checkout_reserve_create", cart.token, client=shopper)
    placed = _call(
        "commerce_carts_checkout_place_create",
        cart.token,
        client=shopper,
        body=models.PlaceOrderInRequest(
            provider=models.ProviderEnum.TEST_CARD, card=models.CardInRequest(**VISA)
        ),
    )
    assert (placed.status, placed.total) == (models.OrderStatusEnum.PAID, "42.90")

    # The merchant's server sees the paid order.
    order = _call("commerce_orders_retrieve", placed.id, client=server)
    assert (order.number, order.paid_amount) == (placed.number, "42.90")

    # The relay turns the order's events into deliveries; the webhook worker sends them, and
    # the receiver checks each signature with the Standard Webhooks library.
    drain()
    deliveries = _call("webhooks_deliveries_list", client=server).results
    assert {d.event_type for d in deliveries} >= {"commerce.order.placed"}
    with schema_context("acme"):
        for delivery in deliveries:
            assert webhooks.delivery_attempt(delivery_id=delivery.id).succeeded
    signed = [Webhook(endpoint.secret).verify(r.body, r.headers) for r in receiver.received]
    [placed_hook] = [hook for hook in signed if hook["type"] == "commerce.order.placed"]
    assert placed_hook["aggregate"]["id"] == str(placed.id)

    # The same story, pulled from the event feed from the start, in order, naming the key.
    events, cursor = [], UNSET
    while True:
        page = _call("events_retrieve", client=server, after=cursor, types="commerce.*", limit=5)
        if not page.results:
            break
        events += page.results
        cursor = page.next_
    types = [event.type_ for event in events]
    assert types.index("commerce.product.created") < types.index("commerce.order.placed")
    [created] = [event for event in events if event.type_ == "commerce.product.created"]
    assert (created.actor.kind, created.actor.label) == ("api_key", "Shop sync")
