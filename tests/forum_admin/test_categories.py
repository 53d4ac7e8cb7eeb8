"""Categories through the admin: every write by the forum's services; bad input is a form
error, never a 500."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.events.models import OutboxEvent
from apps.forum import services
from apps.forum.models import ForumCategory
from apps.tenancy.services import tenant_update

from .conftest import CATEGORIES, in_acme, page, topic


@pytest.fixture
def acme_de(db, django_capture_on_commit_callbacks) -> None:
    """acme writes in English and German (its cached entries dropped, as after a commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        tenant_update(slug="acme", enabled_locales=["en", "de"])


def category_data(**overrides) -> dict[str, str]:
    data = {
        "name": "Support",
        "slug": "",
        "description": "Ask here",
        "colour": "#aa3300",
        "icon": "🛟",
        "position": "2",
        "parent": "",
        "who_may_start": "customers",
        "_save": "Save",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def errors_of(content: str) -> str:
    """The text of the page's error lists (what the moderator reads)."""
    return " ".join(part.split("</ul>", 1)[0] for part in content.split('class="errorlist')[1:])


def events(event_type: str) -> list[dict]:
    return in_acme(
        lambda: list(
            OutboxEvent.objects.filter(event_type=event_type)
            .order_by("position")
            .values_list("payload", flat=True)
        )
    )


def test_create_with_a_colour_translations_and_a_parent(moderator_client, acme_de, category):
    add = page(moderator_client.get(f"{CATEGORIES}add/"))
    assert 'type="color"' in add and 'name="name_de"' in add and 'name="description_de"' in add

    response = moderator_client.post(
        f"{CATEGORIES}add/",
        category_data(parent=category.pk, moderated="on", name_de="Hilfe", description_de="Fragen"),
    )

    assert response.status_code == 302, errors_of(page(response))
    made = in_acme(lambda: ForumCategory.objects.get(slug="support"))
    assert (made.colour, made.icon, made.position, made.parent_id, made.moderated) == (
        "#aa3300", "🛟", 2, category.pk, True,
    )  # fmt: skip
    assert made.translations == {"de": {"name": "Hilfe", "description": "Fragen"}}
    assert events("forum.category.created")[-1]["slug"] == "support"


@pytest.mark.parametrize("colour", ["red", "#12345g", "#abc", "javascript:alert(1)"])
def test_a_bad_colour_is_a_form_error(moderator_client, colour):
    content = page(moderator_client.post(f"{CATEGORIES}add/", category_data(colour=colour)))
    assert "A hex colour such as #3b6ea5." in errors_of(content)
    assert not in_acme(lambda: ForumCategory.objects.filter(slug="support").exists())


def test_a_duplicate_slug_is_a_form_error(moderator_client, category):
    typed = page(moderator_client.post(f"{CATEGORIES}add/", category_data(slug="help")))
    assert "Forum category with this Slug already exists." in errors_of(typed)
    # No slug typed: the service makes it from the name, and finds it taken.
    made = page(moderator_client.post(f"{CATEGORIES}add/", category_data(name="Help")))
    assert "Another category has this slug." in errors_of(made)
    assert in_acme(lambda: ForumCategory.objects.count()) == 1


def test_only_a_top_level_category_is_offered_as_parent(moderator_client, category):
    sub = in_acme(services.category_create, name="Sub", parent_id=category.pk)
    add = page(moderator_client.get(f"{CATEGORIES}add/"))
    assert f'<option value="{category.pk}">' in add and f'<option value="{sub.pk}">' not in add

    content = page(moderator_client.post(f"{CATEGORIES}add/", category_data(parent=sub.pk)))
    assert "Select a valid choice." in errors_of(content)
    # A category with subcategories cannot become one (the service says so, on the field).
    other = in_acme(services.category_create, name="Other")
    content = page(
        moderator_client.post(
            f"{CATEGORIES}{category.pk}/change/",
            category_data(name="Help", slug="help", parent=other.pk),
        )
    )
    assert "A category with subcategories cannot become one." in errors_of(content)
    assert in_acme(lambda: ForumCategory.objects.get(pk=category.pk).parent_id) is None


def test_edit_goes_through_the_service_and_names_what_changed(moderator_client, category):
    response = moderator_client.post(
        f"{CATEGORIES}{category.pk}/change/",
        category_data(
            name="Help", slug="help", description="Questions and answers", colour="#112233",
            who_may_start="staff",
        ),
    )  # fmt: skip
    assert response.status_code == 302, errors_of(page(response))
    saved = in_acme(lambda: ForumCategory.objects.get(pk=category.pk))
    assert (saved.colour, saved.who_may_start, saved.version) == ("#112233", "staff", 2)
    assert events("forum.category.updated")[-1]["changed"] == [
        "colour", "description", "icon", "position", "who_may_start",
    ]  # fmt: skip


def test_a_category_with_topics_is_not_deleted(moderator_client, category, alice):
    topic(category, alice)
    response = moderator_client.post(f"{CATEGORIES}{category.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200
    assert "<title>Cannot delete forum category |" in page(response)
    assert in_acme(lambda: ForumCategory.objects.filter(pk=category.pk).exists())


def test_an_empty_category_is_deleted_through_the_service(moderator_client, category):
    response = moderator_client.post(f"{CATEGORIES}{category.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not in_acme(lambda: ForumCategory.objects.filter(pk=category.pk).exists())
    assert events("forum.category.deleted")[-1]["slug"] == "help"


def test_the_list_shows_the_swatch_and_the_topic_count(moderator_client, category, alice):
    for number in range(2):
        topic(category, alice, f"T{number}")
    content = page(moderator_client.get(CATEGORIES))
    row = content.split(">Help</a>", 1)[1].split("</tr>", 1)[0]
    assert 'class="forum-swatch" style="background: #3b6ea5"' in row
    assert '<td class="field-topic_count">2</td>' in row
    with schema_context("acme"):
        assert ForumCategory.objects.count() == 1
