"""The projection on committed data, fed by the relay: replays, rebuilds and the consistency check."""

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from apps.blog import services as blog
from apps.blog.services import TranslationInput
from apps.content import services as content
from apps.events import relay, services
from apps.index.consistency import check_content_listing
from apps.index.models import ContentListing
from apps.tenancy import services as tenancy
from tests.index.oracle import assert_listing_matches_oracle
from tests.index.support import author, category, listing_rows, post, vectors

HANDLER = "projection.content_listing"


def _write_some_content():
    """A history with every kind of change the projection follows, in acme and globex."""
    with schema_context("acme"):
        writer = author("Ada", "Lovelace")
        news = category("News")
        first = post("First", "The *first* post.", category=news, tags=("intro", "misc"), by=writer)
        second = post("Second", "More words here.", tags=("misc",), by=writer)
        post("Draft", "Not yet.", publish=False)
        gone = post("Gone", "Deleted later.")
        blog.post_translation_upsert(
            post_id=second.pk,
            data=TranslationInput(locale="en", title="Second, edited", body="Edited."),
        )
        blog.post_unpublish(post_id=first.pk)
        blog.post_publish(post_id=first.pk)
        blog.post_delete(post_id=gone.pk)
        content.category_update(category_id=news.pk, name="Newsroom")
        content.tag_delete(tag_id=content.tag_get_or_create(name="intro").pk)
    with schema_context("globex"):
        post("Globex post", "Elsewhere.")


def _check(schema):
    with schema_context(schema):
        return check_content_listing()


def test_after_a_drain_the_projection_matches_the_write_model(committed_content):
    _write_some_content()
    relay.drain()
    for schema, expected in (("acme", 2), ("globex", 1)):
        report = _check(schema)
        assert (report.differences, report.nodes, report.rows) == (0, expected, expected)
        assert_listing_matches_oracle(schema, rows=expected)
    with schema_context("acme"):
        row = ContentListing.objects.get(title="Second, edited")
        assert (row.tag_slugs, row.author_name) == (["misc"], "Ada Lovelace")
        assert ContentListing.objects.get(title="First").category_name == "Newsroom"


def test_replaying_every_event_gives_identical_rows(committed_content):
    _write_some_content()
    relay.drain()
    before = listing_rows("acme"), listing_rows("globex"), vectors("acme")
    # Replay for the projection only: its ledger entries go, so it applies every event again.
    replayed = services.events_replay(handler=HANDLER)
    assert replayed > 10
    stats = relay.drain()
    assert stats.failed == 0
    assert (listing_rows("acme"), listing_rows("globex"), vectors("acme")) == before
    # A plain replay reaches no one (everybody processed these events): still identical.
    services.events_replay()
    relay.drain()
    assert (listing_rows("acme"), listing_rows("globex"), vectors("acme")) == before
    assert _check("acme").differences == 0
    assert_listing_matches_oracle("acme", rows=2)
    assert_listing_matches_oracle("globex", rows=1)


def test_replay_after_losing_the_read_model_restores_it(committed_content):
    _write_some_content()
    relay.drain()
    before = listing_rows("acme")
    with schema_context("acme"):
        ContentListing.objects.all().delete()
    assert _check("acme").missing == 2
    services.events_replay(handler=HANDLER)
    relay.drain()
    assert listing_rows("acme") == before
    assert_listing_matches_oracle("acme", rows=2)


def test_the_check_reports_every_kind_of_difference(committed_content):
    _write_some_content()
    relay.drain()
    with schema_context("acme"):
        rows = ContentListing.objects.order_by("published_at")
        changed, deleted = rows[0], rows[1]
        ContentListing.objects.filter(pk=changed.pk).update(title="Tampered")
        ContentListing.objects.filter(pk=deleted.pk).delete()
        extra = ContentListing.objects.get(pk=changed.pk)
        extra.pk, extra.locale = None, "xx"
        extra.save()
        report = check_content_listing()
    assert (report.missing, report.unexpected, report.different, report.vectors) == (1, 1, 1, 2)
    assert {d.problem for d in report.samples} == {"missing", "unexpected", "different", "vectors"}
    different = next(d for d in report.samples if d.problem == "different")
    assert different.fields == ["title"]


def test_commands_check_and_rebuild(committed_content, capsys):
    _write_some_content()
    relay.drain()
    call_command("check_projections")
    assert "0 difference(s)" in capsys.readouterr().out
    with schema_context("acme"):
        ContentListing.objects.update(title="Tampered")
    with pytest.raises(CommandError, match="4 difference"):
        call_command("check_projections", tenant="acme", details=True)
    assert "different" in capsys.readouterr().out
    call_command("rebuild_projections", tenant="acme", projection="content_listing")
    assert "acme" in capsys.readouterr().out
    call_command("check_projections", tenant="acme", projection="content_listing")
    assert _check("acme").differences == 0
    assert_listing_matches_oracle("acme", rows=2)


def test_a_locale_enabled_later_gets_its_rows(committed_content):
    with schema_context("acme"):
        node = post("Hello", "Hello.")
    relay.drain()
    with schema_context("acme"):
        assert set(ContentListing.objects.values_list("locale", flat=True)) == {"en"}
    tenancy.tenant_update(slug="acme", enabled_locales=["fr"])
    relay.drain()
    with schema_context("acme"):
        rows = {row.locale: row for row in ContentListing.objects.filter(node_id=node.pk)}
    assert set(rows) == {"en", "fr"}
    assert (rows["fr"].content_locale, rows["fr"].title) == ("en", "Hello")
    assert _check("acme").differences == 0
    assert_listing_matches_oracle("acme", rows=2)
    tenancy.tenant_update(slug="acme", enabled_locales=[])
    relay.drain()
    with schema_context("acme"):
        assert set(ContentListing.objects.values_list("locale", flat=True)) == {"en"}
    assert_listing_matches_oracle("acme", rows=1)


def _tag(name: str, slug: str):
    return content.tag_get_or_create(name=name, slug=slug)


def test_the_projection_agrees_with_an_independent_oracle_through_every_kind_of_change(
    committed_content,
):
    """Locales and fallbacks, excerpts, authors, categories and tags, after events, a replay and a rebuild.

    ``check_content_listing`` compares the rows with the function that built
    them; the oracle (``tests/index/oracle.py``) works them out on its own.
    """
    tenancy.tenant_update(slug="acme", enabled_locales=["de", "fr"])
    long_body = " ".join(f"w{n}" for n in range(450))
    with schema_context("acme"):
        named = author("Grace", "Hopper")
        nameless = author("", "")
        news = category("News")
        # Slug order and name order differ: the row lists tags by slug.
        zulu, alpha = _tag("Alpha", "zulu"), _tag("Zulu", "alpha")
        both = blog.post_create(
            translations=[
                TranslationInput(locale="en", title="Both", body="<p>one</p><p>two &amp; three</p>",
                                 body_format="html"),
                TranslationInput(locale="de", title="Beide", excerpt="Kurz &amp; <b>knapp</b>",
                                 body="Lang."),
            ],
            category_id=news.pk, tag_ids=[zulu.pk, alpha.pk], actor=named,
        )  # fmt: skip
        blog.post_publish(post_id=both.pk, actor=named)
        german = post("Nur Deutsch", long_body, locale="de", by=nameless)  # no default locale
        french = post("Seulement", "Une phrase.", locale="fr", tags=("Solo",))
        draft = post("Draft", "Not listed.", publish=False)
        archived = post("Archived", "Gone.")
        blog.post_archive(post_id=archived.pk)
        # Later changes: a new translation, a renamed category and tag, a deleted tag.
        blog.post_translation_upsert(
            post_id=german.pk,
            data=TranslationInput(locale="fr", title="Allemand", body="Traduit."),
        )
        content.category_update(category_id=news.pk, name="Newsroom", slug="newsroom")
        content.tag_update(tag_id=zulu.pk, name="Alpha, renamed", slug="zulu")
        content.tag_delete(tag_id=content.tag_get_or_create(name="Solo").pk)
        # Names per locale: a German category name; a French name for one tag, then for both.
        content.category_update(category_id=news.pk, translations={"de": {"name": "Nachrichten"}})
        content.tag_update(tag_id=alpha.pk, translations={"fr": {"name": "Zoulou"}})
        content.tag_update(
            tag_id=zulu.pk,
            name="Alpha, again",
            slug="zulu-2",
            translations={"fr": {"name": "Alfa"}},
        )
    relay.drain()
    nodes = {both.pk, german.pk, french.pk}
    assert_listing_matches_oracle("acme", rows=len(nodes) * 3)
    with schema_context("acme"):
        assert not ContentListing.objects.filter(node_id__in=[draft.pk, archived.pk]).exists()
        listed = {(row.node_id, row.locale): row for row in ContentListing.objects.all()}
    # The oracle saw the cases it is here for (it would pass vacuously on trivial rows).
    assert listed[(german.pk, "en")].content_locale == "de"  # neither en nor the default: any
    assert listed[(both.pk, "fr")].content_locale == "en"  # the default
    assert listed[(both.pk, "en")].tag_names == ["Zulu", "Alpha, again"]
    assert listed[(both.pk, "fr")].tag_names == ["Zoulou", "Alfa"]  # by slug: alpha, zulu-2
    assert listed[(both.pk, "de")].category_name == "Nachrichten"
    assert listed[(both.pk, "fr")].category_name == "Newsroom"  # no French name: the default
    assert listed[(german.pk, "de")].reading_minutes == 3

    # The default locale moves to German, French is no longer served.
    tenancy.tenant_update(slug="acme", default_locale="de", enabled_locales=["en"])
    relay.drain()
    assert_listing_matches_oracle("acme", rows=len(nodes) * 2)
    services.events_replay(handler=HANDLER)
    assert relay.drain().failed == 0
    assert_listing_matches_oracle("acme", rows=len(nodes) * 2)
    with schema_context("acme"):
        ContentListing.objects.all().delete()
    call_command("rebuild_projections", tenant="acme", projection="content_listing")
    assert_listing_matches_oracle("acme", rows=len(nodes) * 2)
