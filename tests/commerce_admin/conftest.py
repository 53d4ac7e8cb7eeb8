"""Fixtures of the commerce admin tests: acme's merchants, catalog rows made by the services,
and the data a rendered admin form posts back."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from django import forms as django_forms
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import Location, Product, Variant
from apps.commerce.services import ProductInput, VariantInput
from apps.events.models import OutboxEvent
from apps.tenancy.services import tenant_groups_sync, tenant_update
from tests.factories import StaffFactory

ADMIN = "/admin/commerce/"
PRODUCTS = f"{ADMIN}product/"
_skus = itertools.count(1)


@pytest.fixture(autouse=True)
def tenant_groups(db) -> None:
    """The default groups of acme and globex with the permissions roles.py gives them."""
    for schema in ("acme", "globex"):
        with schema_context(schema):
            tenant_groups_sync()


@pytest.fixture
def shop(db) -> None:
    """acme sells in USD (its default) and EUR."""
    with schema_context("acme"):
        services.store_settings_update(default_currency="USD", enabled_currencies=["USD", "EUR"])


@pytest.fixture
def acme_de(db, django_capture_on_commit_callbacks) -> None:
    """acme writes in English and German (its cached entries dropped, as after a commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        tenant_update(slug="acme", enabled_locales=["en", "de"])


def login(client: Client, *, schema: str = "acme", email: str, groups: Iterable[str]) -> Any:
    with schema_context(schema):
        user = StaffFactory(email=email)
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        client.force_login(user)
    return user


@pytest.fixture
def merchant(acme_client) -> Any:
    return login(acme_client, email="merchant@acme.test", groups=["Merchant"])


@pytest.fixture
def merchant_client(acme_client, merchant) -> Client:
    return acme_client


def in_acme(function, /, **kwargs: Any) -> Any:
    with schema_context("acme"):
        return function(**kwargs)


def make_product(title: str = "Linen shirt", **fields: Any) -> Product:
    with schema_context("acme"):
        return services.product_create(data=ProductInput(title=title, **fields))


def make_variant(product: Product, sku: str | None = None, *, price: str | None = None) -> Variant:
    with schema_context("acme"):
        variant = services.variant_create(
            product_id=product.pk, data=VariantInput(sku=sku or f"SKU-{next(_skus)}")
        )
        if price is not None:
            services.price_set(variant_id=variant.pk, currency="USD", amount=price)
    return variant


def make_location(code: str = "main", name: str = "Main warehouse") -> Location:
    with schema_context("acme"):
        return services.location_create(code=code, name=name)


def product_url(product: Product, suffix: str = "change/") -> str:
    return f"{PRODUCTS}{product.pk}/{suffix}"


def page(response) -> str:
    assert response.status_code == 200, response.content[:3000]
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def events(event_type: str, aggregate_id: Any = None) -> list[OutboxEvent]:
    rows = OutboxEvent.objects.filter(event_type=event_type)
    if aggregate_id is not None:
        rows = rows.filter(aggregate_id=str(aggregate_id))
    return list(rows.order_by("position"))


def _value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def form_data(response, **overrides: Any) -> dict[str, Any]:
    """What the rendered admin form (and its inlines) posts when nothing is edited."""
    context = response.context
    forms = [context["adminform"].form]
    data: dict[str, Any] = {}
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = _value(management[name].value())
        forms += formset.forms
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is False or (
                value is None and getattr(field.widget, "input_type", None) == "checkbox"
            ):
                continue
            if (
                isinstance(
                    field, django_forms.MultipleChoiceField | django_forms.ModelMultipleChoiceField
                )
                and not value
            ):
                continue
            data[form.add_prefix(name)] = "on" if value is True else _value(value)
    data["_save"] = "Save"
    data.update(overrides)
    return data


def add_inline(data: dict[str, Any], prefix: str, **values: Any) -> dict[str, Any]:
    """``data`` with one more (new) form of the inline ``prefix``."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = value
    return data


def errors_in(content: str) -> list[str]:
    """The texts of the error lists a form page shows."""
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', content, re.S)
    ]


def errors_of(response) -> dict[str, Any]:
    """The errors of the admin form and of each inline form, by field (and form prefix)."""
    context = response.context
    found: dict[str, Any] = dict(context["adminform"].form.errors)
    for inline in context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            for name, errors in form.errors.items():
                found[f"{form.prefix}-{name}"] = errors
    return found
