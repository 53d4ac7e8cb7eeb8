"""Names of categories and tags per locale: validation, replacement, events and their upcasting."""

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.content import services
from apps.content.errors import ContentInvalid
from apps.content.models import Category, Tag
from apps.events.models import OutboxEvent
from apps.events.schema import load
from apps.tenancy.models import Tenant


@pytest.fixture
def acme_db(acme):
    Tenant.objects.filter(pk=acme.pk).update(enabled_locales=["en", "de", "fr"])
    with schema_context("acme"):
        yield acme


def _payloads(event_type: str) -> list[dict]:
    rows = OutboxEvent.objects.filter(event_type=event_type).order_by("position")
    return [(row.schema_version, row.payload) for row in rows]


def test_a_category_is_created_with_names_in_other_locales(acme_db):
    news = services.category_create(
        name="News",
        description="What happens",
        translations={
            "fr": {"name": "  Actualités ", "description": ""},
            "de": {"name": "Neuigkeiten", "description": "Was passiert"},
        },
    )
    news.refresh_from_db()
    assert news.translations == {
        "de": {"name": "Neuigkeiten", "description": "Was passiert"},
        "fr": {"name": "Actualités"},
    }
    assert (news.name_in("de"), news.description_in("de")) == ("Neuigkeiten", "Was passiert")
    # French has a name of its own but no description: the default one shows.
    assert (news.name_in("fr"), news.description_in("fr")) == ("Actualités", "What happens")
    assert (news.name_in("en"), news.name_in("it")) == ("News", "News")
    assert _payloads("content.category.created") == [
        (2, {"category_id": news.pk, "slug": "news", "locales": ["de", "fr"]})
    ]


def test_a_tag_is_created_with_its_names_and_an_existing_one_is_left_as_it_is(acme_db):
    tag = services.tag_get_or_create(name="Outdoors", translations={"de": {"name": "Draußen"}})
    assert (tag.name_in("de"), tag.name_in("fr"), tag.name_in("en")) == (
        "Draußen",
        "Outdoors",
        "Outdoors",
    )
    again = services.tag_get_or_create(name="outdoors", translations={"de": {"name": "Im Freien"}})
    assert again.pk == tag.pk
    assert Tag.objects.get(pk=tag.pk).translations == {"de": {"name": "Draußen"}}
    assert _payloads("content.tag.created") == [
        (2, {"tag_id": tag.pk, "slug": "outdoors", "locales": ["de"]})
    ]


@pytest.mark.parametrize(
    ("translations", "errors"),
    [
        ("Neuigkeiten", {"translations": "must be an object keyed by locale"}),
        (
            {"it": {"name": "Notizie"}},
            {"translations.it": "'it' is not enabled for this site (en, de, fr)"},
        ),
        (
            {"en": {"name": "News"}},
            {"translations.en": "'en' is the default locale: change the name itself"},
        ),
        ({"de": {"name": "   "}}, {"translations.de.name": "must be 1 to 120 characters"}),
        (
            {"de": {"description": "Nur Text"}},
            {"translations.de.name": "must be 1 to 120 characters"},
        ),
        ({"de": {"name": "x" * 121}}, {"translations.de.name": "at most 120 characters"}),
        (
            {"de": {"name": "Neu", "description": "x" * 5001}},
            {"translations.de.description": "at most 5000 characters"},
        ),
        ({"de": {"name": "Neu\x00"}}, {"translations.de.name": "must not contain NUL characters"}),
        ({"de": {"name": 7}}, {"translations.de.name": "must be text"}),
        ({"de": "Neuigkeiten"}, {"translations.de": "must be an object with name and description"}),
        (
            {"de": {"name": "Neu", "title": "?"}},
            {"translations.de.title": "unknown field"},
        ),
    ],
)
def test_bad_category_names_are_refused_and_nothing_is_written(acme_db, translations, errors):
    with pytest.raises(ContentInvalid) as refused:
        services.category_create(name="News", translations=translations)
    assert refused.value.errors == errors
    assert not Category.objects.exists()
    assert not OutboxEvent.objects.filter(event_type__startswith="content.category.").exists()


def test_a_tag_name_is_bounded_as_its_default_name_is(acme_db):
    with pytest.raises(ContentInvalid) as refused:
        services.tag_get_or_create(name="Team", translations={"de": {"name": "x" * 81}})
    assert refused.value.errors == {"translations.de.name": "at most 80 characters"}
    with pytest.raises(ContentInvalid) as refused:
        services.tag_get_or_create(
            name="Team", translations={"de": {"name": "Team", "description": "?"}}
        )
    assert refused.value.errors == {"translations.de.description": "unknown field"}
    assert not Tag.objects.exists()


def test_updates_replace_the_names_and_say_what_changed(acme_db):
    news = services.category_create(name="News", translations={"de": {"name": "Nachrichten"}})
    services.category_update(
        category_id=news.pk,
        translations={"de": {"name": "Neuigkeiten"}, "fr": {"name": "Actualités"}},
    )
    # None keeps the names; a new default name leaves the others alone.
    services.category_update(category_id=news.pk, name="Latest news")
    services.category_update(category_id=news.pk, position=4)
    services.category_update(category_id=news.pk, translations={})
    news.refresh_from_db()
    assert (news.name, news.position, news.translations) == ("Latest news", 4, {})
    assert _payloads("content.category.updated") == [
        (2, {"category_id": news.pk, "slug": "news", "locales": ["de", "fr"],
             "changed": ["translations.de.name", "translations.fr.name"]}),
        (2, {"category_id": news.pk, "slug": "news", "locales": ["de", "fr"], "changed": ["name"]}),
        (2, {"category_id": news.pk, "slug": "news", "locales": ["de", "fr"], "changed": ["position"]}),
        (2, {"category_id": news.pk, "slug": "news", "locales": [],
             "changed": ["translations.de.name", "translations.fr.name"]}),
    ]  # fmt: skip


def test_an_update_that_changes_nothing_publishes_nothing(acme_db):
    news = services.category_create(name="News", translations={"de": {"name": "Neuigkeiten"}})
    tag = services.tag_get_or_create(name="Team", translations={"de": {"name": "Mannschaft"}})
    before = OutboxEvent.objects.count()
    services.category_update(
        category_id=news.pk, name="News", translations={"de": {"name": " Neuigkeiten "}}
    )
    services.tag_update(tag_id=tag.pk, translations={"de": {"name": "Mannschaft"}})
    assert OutboxEvent.objects.count() == before


def test_a_tag_update_keeps_or_replaces_its_names(acme_db):
    tag = services.tag_get_or_create(name="Team", translations={"de": {"name": "Mannschaft"}})
    services.tag_update(
        tag_id=tag.pk, translations={"de": {"name": "Team"}, "fr": {"name": "Équipe"}}
    )
    renamed = services.tag_update(tag_id=tag.pk, name="Our team")  # a rename: the slug follows
    assert (renamed.name, renamed.slug) == ("Our team", "our-team")
    assert renamed.translations == {"de": {"name": "Team"}, "fr": {"name": "Équipe"}}
    with pytest.raises(ContentInvalid) as refused:
        services.tag_update(tag_id=tag.pk, translations={"de": {"name": ""}})
    assert refused.value.errors == {"translations.de.name": "must be 1 to 80 characters"}
    assert Tag.objects.get(pk=tag.pk).translations == renamed.translations
    assert _payloads("content.tag.updated") == [
        (2, {"tag_id": tag.pk, "slug": "team", "locales": ["de", "fr"],
             "changed": ["translations.de.name", "translations.fr.name"]}),
        (2, {"tag_id": tag.pk, "slug": "our-team", "locales": ["de", "fr"],
             "changed": ["name", "slug"]}),
    ]  # fmt: skip


def test_stored_v1_taxonomy_events_are_upcast():
    created = load("content.category.created", 1, {"category_id": 3, "slug": "news"})
    assert (created.schema_version, created.locales) == (2, [])
    updated = load("content.category.updated", 1, {"category_id": 3, "slug": "news"})
    assert updated.changed == ["name", "slug", "parent", "position", "description"]
    assert updated.locales == []
    tag = load("content.tag.updated", 1, {"tag_id": 5, "slug": "team"})
    assert (tag.changed, tag.locales) == (["name", "slug"], [])
    assert load("content.tag.created", 1, {"tag_id": 5, "slug": "team"}).locales == []
    current = {"tag_id": 5, "slug": "team", "changed": ["translations.de.name"], "locales": ["de"]}
    assert load("content.tag.updated", 2, current).payload() == current


_TEXT = st.text(alphabet=st.sampled_from(list("aZß \x00\t-")), max_size=130)
_LOCALE = st.sampled_from(["en", "de", "fr", "it", "", "DE"])
_ENTRY = st.one_of(
    st.dictionaries(st.sampled_from(["name", "description", "title"]), _TEXT | st.integers()),
    _TEXT,
    st.none(),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_LOCALE, _ENTRY, max_size=4))
def test_names_are_either_refused_or_clean(acme_db, translations):
    fields = services.CATEGORY_TRANSLATION_FIELDS
    try:
        cleaned = services._clean_name_translations(translations, fields=fields)
    except ContentInvalid as refused:
        assert refused.errors and all(key.startswith("translations") for key in refused.errors)
        return
    assert set(cleaned) <= {"de", "fr"}  # enabled, and not the default locale
    for values in cleaned.values():
        assert set(values) <= set(fields) and values["name"]
        for name, text in values.items():
            assert text == text.strip() and text and "\x00" not in text
            assert len(text) <= fields[name]
