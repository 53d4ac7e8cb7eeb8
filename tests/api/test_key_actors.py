"""Writes through an API key name the key as their actor (its id, its name and the user it acts
for), in the outbox and in an order's stream; writes through a staff session name the user."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from apps.commerce.models import OrderEvent
from apps.core.context import Actor
from apps.events.models import OutboxEvent
from tests.commerce.order_factories import place

from .conftest import login_as
from .test_api_keys import make_key, post_json, staff_owner

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/commerce/products/"
ORDERS = "/api/v1/commerce/orders/"


def created_actor(response) -> dict:
    (row,) = OutboxEvent.objects.filter(
        event_type="commerce.product.created", aggregate_id=response.json()["id"]
    )
    return row.actor


def test_a_write_with_a_key_records_the_key_and_its_owner(acme, acme_client):
    owner = staff_owner()
    key, secret = make_key(owner, scopes=["commerce:read", "commerce:write"])
    response = post_json(acme_client, PRODUCTS, {"title": "Keyed shirt"}, secret)
    assert response.status_code == 201, response.content
    assert created_actor(response) == {
        "kind": "api_key",
        "id": str(key.pk),
        "label": "Shop sync",
        "owner": {"kind": "user", "id": str(owner.pk), "label": owner.get_username()},
    }


def test_a_write_with_a_session_records_the_user(acme, acme_client):
    user = login_as(acme_client, "acme", email="merchant@acme.test", groups=["Merchant"])
    response = acme_client.post(
        PRODUCTS, json.dumps({"title": "Session shirt"}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert created_actor(response) == {
        "kind": "user",
        "id": str(user.pk),
        "label": user.get_username(),
    }


def test_an_order_moved_with_a_key_names_the_key_in_its_stream(acme, acme_client):
    key, secret = make_key(staff_owner(), scopes=["commerce:write"])
    with schema_context("acme"):
        order = place()
    response = post_json(acme_client, f"{ORDERS}{order.pk}/transitions/confirm/", {}, secret)
    assert response.status_code == 200, response.content
    with schema_context("acme"):
        confirmed = OrderEvent.objects.get(order_id=order.pk, type="commerce.order.confirmed")
    assert (confirmed.actor_kind, confirmed.actor_id, confirmed.actor_label) == (
        "api_key",
        str(key.pk),
        "Shop sync",
    )


def test_a_key_actor_survives_the_outbox_round_trip():
    """Handlers run with the stored actor (``relay._handler_context``): the owner comes back."""
    owner = Actor("user", "7", "integrator@acme.test")
    actor = Actor("api_key", "3", "Shop sync", owner)
    assert Actor.from_dict(json.loads(json.dumps(actor.as_dict()))) == actor
    assert Actor.from_dict({"kind": "user", "id": "7"}) == Actor("user", "7", "")
