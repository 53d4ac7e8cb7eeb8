"""Names of categories and tags per locale in the admin: one field per other locale, saved by the services."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Category, Tag

from .conftest import errors_in, events, in_acme, page, staff_member

CATEGORIES = "/admin/content/category/"
TAGS = "/admin/content/tag/"


def _category_form(**overrides: str) -> dict[str, str]:
    data = {"name": "Travel", "slug": "", "parent": "", "description": ""}
    data.update({"name_de": "", "description_de": ""})
    data.update(overrides)
    return data


def test_a_category_gets_its_german_name_and_description_on_its_own_fields(editor_client, acme_de):
    form = page(editor_client.get(f"{CATEGORIES}add/"))
    assert 'name="name_de"' in form and 'name="description_de"' in form
    assert "Name (de)" in form and 'name="name_en"' not in form  # English is the name itself

    response = editor_client.post(f"{CATEGORIES}add/", _category_form(name_de="Reisen"))
    assert response.status_code == 302, errors_in(response.content.decode())
    travel = in_acme(Category.objects.get)
    assert (travel.name, travel.translations) == ("Travel", {"de": {"name": "Reisen"}})
    assert events("content.category.created")[0].payload["locales"] == ["de"]

    change = page(editor_client.get(f"{CATEGORIES}{travel.pk}/change/"))
    assert 'name="name_de" value="Reisen"' in change
    response = editor_client.post(
        f"{CATEGORIES}{travel.pk}/change/",
        _category_form(slug="travel", name_de="Reisen", description_de="Weit weg"),
    )
    assert response.status_code == 302, errors_in(response.content.decode())
    travel.refresh_from_db()
    assert travel.translations == {"de": {"name": "Reisen", "description": "Weit weg"}}
    (updated,) = events("content.category.updated")
    assert updated.payload["changed"] == ["translations.de.description"]


def test_a_description_without_a_name_is_refused_on_the_name_field(editor_client, acme_de):
    response = editor_client.post(f"{CATEGORIES}add/", _category_form(description_de="Nur Text"))
    html = page(response)
    assert errors_in(html) == ["must be 1 to 120 characters"]
    # The error sits with the German name's field.
    assert html.index("must be 1 to 120 characters") > html.index('for="id_description"')
    assert html.index("must be 1 to 120 characters") < html.index('name="name_de"')
    assert not in_acme(Category.objects.exists)
    assert not events("content.category.created")


def test_a_tag_gets_its_german_name_and_loses_it_when_the_field_is_emptied(editor_client, acme_de):
    response = editor_client.post(
        f"{TAGS}add/", {"name": "Outdoors", "slug": "", "name_de": "Draußen"}
    )
    assert response.status_code == 302, errors_in(response.content.decode())
    tag = in_acme(Tag.objects.get)
    assert tag.translations == {"de": {"name": "Draußen"}}
    response = editor_client.post(
        f"{TAGS}{tag.pk}/change/", {"name": "Outdoors", "slug": "outdoors", "name_de": ""}
    )
    assert response.status_code == 302, errors_in(response.content.decode())
    tag.refresh_from_db()
    assert tag.translations == {}
    assert [e.payload["changed"] for e in events("content.tag.updated")] == [
        ["translations.de.name"]
    ]


def test_a_site_in_one_language_has_no_fields_for_other_names(editor_client):
    form = page(editor_client.get(f"{TAGS}add/"))
    assert 'name="name"' in form and "name_de" not in form and "Other languages" not in form


def test_a_viewer_sees_the_other_names_without_fields(acme_client, acme_de):
    with schema_context("acme"):
        tag = services.tag_get_or_create(name="Outdoors", translations={"de": {"name": "Draußen"}})
    viewer = staff_member(email="viewer@acme.test")
    with schema_context("acme"):
        viewer.user_permissions.add(Permission.objects.get(codename="view_tag"))
        acme_client.force_login(viewer)
    html = page(acme_client.get(f"{TAGS}{tag.pk}/change/"))
    assert "<strong>de</strong>: Draußen" in html and 'name="name_de"' not in html
