"""Category and tag names in each listing row's locale, and the events that bring them up to date."""

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.events.envelope import StoredEvent
from apps.events.models import OutboxEvent
from apps.index.consistency import check_content_listing
from apps.index.models import ContentListing
from apps.index.projections import projections
from tests.index.oracle import assert_listing_matches_oracle
from tests.index.support import category, post, project

pytestmark = pytest.mark.usefixtures("acme_schema", "acme_en_de")


def _names() -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(title, locale) -> (category name, tag names)."""
    return {
        (row.title, row.locale): (row.category_name, row.tag_names)
        for row in ContentListing.objects.all()
    }


def _apply_last(event_type: str, **change) -> None:
    """Apply the newest event of ``event_type`` alone, its stored payload changed by ``change``."""
    row = OutboxEvent.objects.filter(event_type=event_type).order_by("-position").values().first()
    with schema_context("acme"):
        projections()["content_listing"].apply(StoredEvent.from_row({**row, **change}))


def test_rows_name_the_category_and_tags_in_their_locale_with_the_default_as_fallback():
    news = category("News", translations={"de": {"name": "Neuigkeiten"}})
    content.tag_get_or_create(name="Outdoors", translations={"de": {"name": "Draußen"}})
    post("Hike", "Walk.", category=news, tags=("Outdoors", "Team"))
    project()
    assert _names() == {
        ("Hike", "en"): ("News", ["Outdoors", "Team"]),
        ("Hike", "de"): ("Neuigkeiten", ["Draußen", "Team"]),  # "Team" has no German name
    }
    assert_listing_matches_oracle("acme", rows=2)


def test_translating_or_renaming_a_category_or_tag_reprojects_the_rows_that_show_it():
    news = category("News")
    other = category("Other")
    post("One", "1", category=news, tags=("team",))
    post("Two", "2", category=other, tags=("misc",))
    project()
    tag = content.tag_get_or_create(name="team")
    content.category_update(category_id=news.pk, translations={"de": {"name": "Neuigkeiten"}})
    content.tag_update(tag_id=tag.pk, translations={"de": {"name": "Mannschaft"}})
    project()
    assert _names()[("One", "de")] == ("Neuigkeiten", ["Mannschaft"])
    assert _names()[("One", "en")] == ("News", ["team"])
    assert_listing_matches_oracle("acme", rows=4)

    content.category_update(category_id=news.pk, name="Latest", translations={})
    content.tag_update(tag_id=tag.pk, name="Crew", translations={"de": {"name": "Besatzung"}})
    project()
    assert _names()[("One", "de")] == ("Latest", ["Besatzung"])
    assert _names()[("One", "en")] == ("Latest", ["Crew"])
    assert _names()[("Two", "de")] == ("Other", ["misc"])
    assert_listing_matches_oracle("acme", rows=4)
    assert check_content_listing().ok


def test_the_consistency_check_sees_a_name_in_the_wrong_locale():
    news = category("News", translations={"de": {"name": "Neuigkeiten"}})
    post("One", "1", category=news)
    project()
    assert check_content_listing().ok
    ContentListing.objects.filter(locale="de").update(category_name="News")
    report = check_content_listing()
    assert (report.different, [d.fields for d in report.samples]) == (1, [["category_name"]])


def test_a_category_change_rows_do_not_show_leaves_them_and_an_old_event_does_not():
    news = category("News")
    post("One", "1", category=news)
    project()
    # Written behind the projection's back: only an event that re-projects puts it right.
    ContentListing.objects.update(category_name="stale")
    content.category_update(category_id=news.pk, position=3, description="About news")
    _apply_last("content.category.updated")
    assert set(ContentListing.objects.values_list("category_name", flat=True)) == {"stale"}
    # A stored v1 event did not say what changed: it re-projects.
    _apply_last(
        "content.category.updated",
        schema_version=1,
        payload={"category_id": news.pk, "slug": "news"},
    )
    assert set(ContentListing.objects.values_list("category_name", flat=True)) == {"News"}
    assert_listing_matches_oracle("acme", rows=2)


def test_a_tag_renamed_twice_is_found_by_its_id_whatever_its_slug_is_now():
    post("One", "1", tags=("alpha",))
    project()
    tag = content.tag_get_or_create(name="alpha")
    content.tag_update(tag_id=tag.pk, name="beta")
    content.tag_update(tag_id=tag.pk, name="gamma")
    # The first rename's event arrives after both: it names slug "beta", which no tag has now.
    first = {"tag_id": tag.pk, "slug": "beta", "changed": ["name", "slug"], "locales": []}
    _apply_last("content.tag.updated", payload=first)
    assert list(ContentListing.objects.values_list("tag_slugs", flat=True)) == [["gamma"]] * 2
    assert_listing_matches_oracle("acme", rows=2)


def _taxonomy_batch(renames: int) -> list[StoredEvent]:
    """``renames`` rounds of renaming both categories and both tags: their events, as one
    relay batch would hold them."""
    cats = [category("News"), category("Other")]
    tags = [content.tag_get_or_create(name=name) for name in ("team", "misc")]
    for number in range(8):
        post(f"Post {number}", "Body.", category=cats[number % 2], tags=("team", "misc"))
    project()
    newest = OutboxEvent.objects.order_by("-position").values_list("position", flat=True)[0]
    for round_ in range(renames):
        for cat in cats:
            content.category_update(category_id=cat.pk, name=f"{cat.name} {round_}")
        for tag in tags:
            content.tag_update(tag_id=tag.pk, translations={"de": {"name": f"{tag.name} {round_}"}})
    rows = OutboxEvent.objects.filter(position__gt=newest).order_by("position").values()
    return [StoredEvent.from_row(row) for row in rows]


@pytest.mark.parametrize("renames", [1, 4])
def test_a_batch_of_category_and_tag_changes_reads_and_writes_its_rows_once(
    renames, django_assert_num_queries
):
    events = _taxonomy_batch(renames)
    assert len(events) == 4 * renames
    listing = projections()["content_listing"]
    # The schema switch, one lookup of the rows that show any of the categories and tags, one
    # of the renamed tags' nodes, the tenant's locales, the nodes with what their rows show
    # (nodes, tags, translations), one upsert and one delete: event by event, all but the
    # switch were once per event.
    with schema_context("acme"), django_assert_num_queries(9):
        listing.apply_many(events)
    last = renames - 1
    assert {name for name, _ in _names().values()} == {f"News {last}", f"Other {last}"}
    assert sorted(_names()[("Post 0", "de")][1]) == [f"misc {last}", f"team {last}"]
    assert_listing_matches_oracle("acme", rows=16)
