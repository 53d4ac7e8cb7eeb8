"""The content listing projection, applied the way the relay applies it (inside the test transaction)."""

import io
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from apps.blog import services as blog
from apps.blog.services import TranslationInput
from apps.content import services as content
from apps.index import content_listing
from apps.index.models import ContentListing
from tests.index.oracle import assert_listing_matches_oracle
from tests.index.support import author, category, post, project


def _rows(**filters):
    return {row.locale: row for row in ContentListing.objects.filter(**filters)}


def test_a_published_post_gets_one_row_per_served_locale(acme_schema, acme_en_de):
    writer = author("Grace", "Hopper")
    news = category("News")
    body = " ".join(f"word{i}" for i in range(450))
    node = post("Hello world", body, category=news, tags=("Python", "Django"), by=writer)
    project()
    rows = _rows(node_id=node.pk)
    assert set(rows) == {"en", "de"}
    en = rows["en"]
    assert (en.kind, en.title, en.slug, en.content_locale) == (
        "post",
        "Hello world",
        "hello-world",
        "en",
    )
    assert en.excerpt == " ".join(f"word{i}" for i in range(40)) + "\u2026"
    assert (en.author_id, en.author_name) == (writer.pk, "Grace Hopper")
    assert (en.category_id, en.category_slug, en.category_name) == (news.pk, "news", "News")
    assert (en.tag_slugs, en.tag_names) == (["django", "python"], ["Django", "Python"])
    assert en.reading_minutes == 3  # 450 words at 200 a minute
    assert en.published_at == node.published_at
    assert en.source_version == node.version
    assert en.search_config == "english"
    # No German translation: the German row shows the English one.
    assert (rows["de"].content_locale, rows["de"].title) == ("en", "Hello world")
    assert_listing_matches_oracle("acme", rows=2)


def test_each_locale_row_holds_its_own_translation(acme_schema, acme_en_de):
    node = post(
        "Cats", "Cats are great.",
        more={"de": {"title": "Katzen", "body": "Katzen sind toll."}},
    )  # fmt: skip
    project()
    rows = _rows(node_id=node.pk)
    assert (rows["de"].title, rows["de"].content_locale, rows["de"].search_config) == (
        "Katzen", "de", "german",
    )  # fmt: skip
    assert rows["en"].excerpt == "Cats are great."
    assert_listing_matches_oracle("acme", rows=2)


def test_drafts_unpublished_archived_and_deleted_posts_leave_the_listing(acme_schema):
    draft = post("Draft", "not yet", publish=False)
    unpublished = post("Unpublished", "gone")
    archived = post("Archived", "old")
    deleted = post("Deleted", "bye")
    kept = post("Kept", "here")
    project()
    assert ContentListing.objects.filter(node_id=unpublished.pk).exists()
    blog.post_unpublish(post_id=unpublished.pk)
    blog.post_archive(post_id=archived.pk)
    blog.post_delete(post_id=deleted.pk)
    project()
    assert set(ContentListing.objects.values_list("node_id", flat=True)) == {kept.pk}
    assert not ContentListing.objects.filter(node_id=draft.pk).exists()
    blog.post_publish(post_id=unpublished.pk)
    project()
    assert ContentListing.objects.filter(node_id=unpublished.pk).count() == 1
    assert_listing_matches_oracle("acme", rows=2)


def test_translation_changes_follow(acme_schema, acme_en_de):
    node = post("Dogs", "Dogs.", more={"de": {"title": "Hunde", "body": "Hunde."}})
    project()
    blog.post_translation_upsert(
        post_id=node.pk, data=TranslationInput(locale="en", title="Good dogs", body="Dogs!")
    )
    project()
    assert _rows(node_id=node.pk)["en"].title == "Good dogs"
    blog.post_translation_delete(post_id=node.pk, locale="de")
    project()
    de = _rows(node_id=node.pk)["de"]
    assert (de.content_locale, de.title) == ("en", "Good dogs")
    assert_listing_matches_oracle("acme", rows=2)


def test_category_and_tag_changes_reach_every_row(acme_schema):
    news = category("News")
    first = post("One", "1", category=news, tags=("old", "kept"))
    second = post("Two", "2", category=news)
    project()
    content.category_update(category_id=news.pk, name="Latest news", slug="latest")
    tag = content.tag_get_or_create(name="old")
    content.tag_delete(tag_id=tag.pk)
    project()
    for node in (first, second):
        row = ContentListing.objects.get(node_id=node.pk)
        assert (row.category_slug, row.category_name) == ("latest", "Latest news")
    assert ContentListing.objects.get(node_id=first.pk).tag_slugs == ["kept"]
    assert_listing_matches_oracle("acme", rows=2)
    content.category_delete(category_id=news.pk)
    project()
    assert set(ContentListing.objects.values_list("category_id", "category_slug")) == {(None, "")}
    assert_listing_matches_oracle("acme", rows=2)


def test_excerpts_are_plain_text(acme_schema):
    node = post(
        "Plain",
        "Body",
        excerpt='Tom &amp; <b>Jerry</b> say 1 < 2 <script>alert("x")</script><img src=x onerror=alert(1)>',
    )
    html_body = post("Blocks", "<p>one</p><p>two<br>three</p>")
    project()
    assert ContentListing.objects.get(node_id=node.pk).excerpt == "Tom & Jerry say 1 < 2"
    assert ContentListing.objects.get(node_id=html_body.pk).excerpt == "one two three"
    assert_listing_matches_oracle("acme", rows=2)


def test_text_that_looks_like_an_entity_is_listed_as_written(acme_schema):
    node = post("Entities", "Type `&lt;b&gt;` for bold, &amp;amp; for an ampersand.")
    project()
    row = ContentListing.objects.get(node_id=node.pk)
    assert row.excerpt == "Type &lt;b&gt; for bold, &amp; for an ampersand."
    assert_listing_matches_oracle("acme", rows=1)


def test_a_stale_version_does_not_overwrite_a_newer_row(acme_schema):
    node = post("Fresh", "new")
    project()
    locales = content_listing.tenant_locales()
    rows = content_listing.expected_rows(node, locales)
    rows["en"]["title"] = "Stale"
    content_listing.write(node.pk, node.version - 1, rows)
    assert ContentListing.objects.get(node_id=node.pk).title == "Fresh"
    content_listing.write(node.pk, node.version + 1, rows)
    assert ContentListing.objects.get(node_id=node.pk).title == "Stale"


def test_rebuild_gives_the_rows_the_events_gave(acme_schema, acme_en_de):
    writer = author()
    for n in range(3):
        post(f"Post {n}", f"Body {n}", tags=(f"t{n}",), by=writer)
    post("Draft", publish=False)
    project()
    before = list(ContentListing.objects.order_by("node_id", "locale").values())
    from apps.index.projections import projections

    assert projections()["content_listing"].rebuild() == 3
    after = list(ContentListing.objects.order_by("node_id", "locale").values())
    strip = ("id", "indexed_at")
    assert [{k: v for k, v in r.items() if k not in strip} for r in after] == [
        {k: v for k, v in r.items() if k not in strip} for r in before
    ]
    assert_listing_matches_oracle("acme", rows=3 * 2)


@pytest.mark.parametrize(
    ("locale", "config"),
    [("en", "english"), ("de", "german"), ("fr", "french"), ("ru", "russian"), ("it", "simple")],
)
def test_search_configuration_per_locale(locale, config):
    from apps.index.text import search_config

    assert search_config(locale) == config


def test_published_at_of_the_node_is_the_rows(acme_schema):
    when = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    node = post("Leap", "day", published_at=when)
    project()
    assert ContentListing.objects.get(node_id=node.pk).published_at == when


def _png(name: str = "cover.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 88, 202)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_a_row_shows_the_image_of_its_node_and_follows_its_alt_text(
    acme_schema, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    cover = content.media_upload(file=_png(), alt_text={"en": "A blue card"})
    node = post("Pictured", "body")
    plain = post("Plain", "body")
    content.node_update(node_id=node.pk, og_image_id=cover.pk)
    project()
    row = ContentListing.objects.get(node_id=node.pk, locale="en")
    assert (row.image_id, row.image_width, row.image_height) == (cover.pk, 40, 30)
    assert row.image_url == cover.file.url and row.image_url.startswith("/media/acme/")
    assert row.image_alt == "A blue card"
    assert ContentListing.objects.get(node_id=plain.pk).image_url == ""

    content.media_update_alt(media_id=cover.pk, alt_text={"en": "A card in blue"})
    project()  # the media event names the image; the rows that show it are read again
    assert ContentListing.objects.get(node_id=node.pk).image_alt == "A card in blue"
    assert_listing_matches_oracle("acme", rows=2)

    content.media_delete(media_id=cover.pk)
    project()
    row = ContentListing.objects.get(node_id=node.pk)
    assert (row.image_id, row.image_url, row.image_alt) == (None, "", "")
    assert_listing_matches_oracle("acme", rows=2)


def test_a_row_follows_the_renditions_of_its_image(acme_schema, media_root):
    from apps.index.consistency import check_content_listing
    from apps.index.projections import projections
    from tests.content.support import deliver_uploads, upload

    cover = upload((1000, 600))
    node = post("Pictured", "body")
    content.node_update(node_id=node.pk, og_image_id=cover.pk)
    project()
    assert ContentListing.objects.get(node_id=node.pk).image_srcset == ""  # none made yet
    assert_listing_matches_oracle("acme", rows=1)

    deliver_uploads()
    project()  # the renditions' event names the image; the rows that show it are read again
    srcset = ContentListing.objects.get(node_id=node.pk).image_srcset
    assert [part.rsplit(" ", 1)[1] for part in srcset.split(", ")] == [
        "320w", "640w", "960w", "1000w",
    ]  # fmt: skip
    assert srcset.endswith(f"{cover.file.url} 1000w") and srcset.startswith("/media/acme/")
    assert_listing_matches_oracle("acme", rows=1)
    assert check_content_listing().ok
    projections()["content_listing"].rebuild()
    assert ContentListing.objects.get(node_id=node.pk).image_srcset == srcset


def _vector(node_id) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_vector::text FROM index_content_listing WHERE node_id = %s", [node_id]
        )
        return cursor.fetchone()[0]


def test_a_row_whose_text_did_not_change_keeps_its_search_vector(acme_schema):
    node = post("Dogs", "Dogs bark.")
    project()
    # A stored vector that its text would not give: kept while the text stays the same.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE index_content_listing SET search_vector = to_tsvector('simple', 'kept') "
            "WHERE node_id = %s",
            [node.pk],
        )
    locales = content_listing.tenant_locales()
    content_listing.write(node.pk, node.version, content_listing.expected_rows(node, locales))
    assert _vector(node.pk) == "'kept':1"
    rows = content_listing.expected_rows(node, locales)
    rows["en"]["title"] = "Cats"
    content_listing.write(node.pk, node.version, rows)
    assert "'cat':1A" in _vector(node.pk)
    assert "kept" not in _vector(node.pk)
