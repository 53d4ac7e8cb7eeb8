"""Fixtures of the API tests: logged-in clients of the test tenants and content made by services."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context
from PIL import Image

from apps.content import services
from apps.content.models import Media, Node
from apps.tenancy.services import tenant_update
from tests.conftest import as_tenant_admin
from tests.factories import UserFactory

User = get_user_model()
PROBLEM = "application/problem+json"


def login_as(
    client: Client,
    schema: str,
    *,
    email: str,
    staff: bool = True,
    perms: Iterable[str] = (),
    groups: Iterable[str] = (),
) -> Any:
    """Log ``client`` in as a new user of ``schema`` with the given permissions ("content.view_node")."""
    with schema_context(schema):
        user = UserFactory(email=email, is_staff=staff)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        client.force_login(user)
    return user


@pytest.fixture
def globex_api(globex_client: Client) -> Client:
    return as_tenant_admin(globex_client, "globex")


@pytest.fixture
def acme_de(db) -> None:
    """acme writes in English and German."""
    tenant_update(slug="acme", enabled_locales=["en", "de"])


def png(name: str = "dot.png", size: tuple[int, int] = (3, 2)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def upload_media(schema: str = "acme", *, name: str = "dot.png", **alt_text: str) -> Media:
    """An image uploaded by the service in ``schema`` (``media_root`` keeps it out of the tree)."""
    with schema_context(schema):
        return services.media_upload(file=png(name), alt_text=alt_text or {"en": "A dot"})


def make_node(
    schema: str = "acme",
    *,
    kind: str = "post",
    title: str = "Hello",
    translations: dict[str, dict[str, Any]] | None = None,
    **fields: Any,
) -> Node:
    """A node made by the service, in ``schema``."""
    translations = translations or {"en": {"title": title}}
    with schema_context(schema):
        return services.node_create(
            data=services.NodeInput(
                kind=kind,
                translations=[
                    services.TranslationInput(locale=locale, **values)
                    for locale, values in translations.items()
                ],
                **fields,
            )
        )


def in_schema(schema: str, function, /, **kwargs: Any) -> Any:
    with schema_context(schema):
        return function(**kwargs)


def assert_problem(response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content[:1000]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "code"} <= set(body)
    if code is not None:
        assert body["code"] == code, body
    return body
