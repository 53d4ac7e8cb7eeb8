"""A post's preview is the post's real page (date, meta, sidebar, locale switcher) with a banner."""

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.content.services import NodeInput, TranslationInput
from apps.people import services as people
from tests.factories import StaffFactory
from tests.pages.support import make_page, make_post, reader_client, staff_client

pytestmark = pytest.mark.usefixtures("acme_site")


def html(response) -> str:
    return response.content.decode()


def test_a_draft_post_is_previewed_with_the_post_template(acme_client):
    draft = make_post("Secret recipe", de="Geheimrezept", publish=False)
    response = staff_client().get(f"/preview/{draft.pk}/")
    assert response.status_code == 200
    page = html(response)
    # The real post page: its header, meta line, body and the blog's sidebar.
    assert '<article class="post" lang="en">' in page and "<h1>Secret recipe</h1>" in page
    assert '<p class="post-meta">' in page and "Not published yet" in page
    assert "About <em>Secret recipe</em>" in page
    assert '<aside class="blog-aside"' in page and 'action="/blog/search/"' in page
    # The locale switcher stays on the preview.
    assert f'href="/preview/{draft.pk}/?lang=de" hreflang="de"' in page
    # The banner: what it is, where to edit it, and no public address for a draft.
    assert '<div class="preview-banner" role="status">' in page
    assert "draft, not visible to readers." in page
    assert f'href="/admin/blog/post/{draft.pk}/change/"' in page
    assert "See it on the site" not in page
    # Not for search engines or caches.
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert 'rel="canonical"' not in page
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_a_draft_post_preview_follows_the_locale(acme_client):
    draft = make_post("Secret recipe", de="Geheimrezept", publish=False)
    page = html(staff_client().get(f"/preview/{draft.pk}/?lang=de"))
    assert '<article class="post" lang="de">' in page and "<h1>Geheimrezept</h1>" in page


def test_a_published_post_preview_links_to_its_public_page_and_shows_its_author():
    with schema_context("acme"):
        writer = StaffFactory(first_name="Grace", last_name="Hopper")
        people.profile_update(user_id=writer.pk, display_name="Amazing Grace")
        node = content.node_create(
            data=NodeInput(kind="post", translations=[TranslationInput("en", "Out now")]),
            actor=writer,
        )
        content.node_publish(node_id=node.pk)
        slug = node.translations.get().slug
    page = html(staff_client().get(f"/preview/{node.pk}/"))
    assert "published: readers see it at its address." in page
    assert f'href="http://acme.localhost/blog/{slug}/">See it on the site</a>' in page
    assert "<time datetime=" in page and "Not published yet" not in page
    assert f'href="/blog/author/{writer.pk}/" rel="author">Amazing Grace</a>' in page
    # The public page itself has no banner.
    public = html(staff_client().get(f"/blog/{slug}/"))
    assert "preview-banner" not in public and 'rel="canonical"' in public


def test_only_staff_see_a_post_preview_others_get_the_themed_404(acme_client):
    draft = make_post("Secret recipe", publish=False)
    for client in (acme_client, reader_client()):
        response = client.get(f"/preview/{draft.pk}/")
        assert response.status_code == 404 and "Page not found" in html(response)
        assert "Secret recipe" not in html(response)


def test_a_page_preview_banner_links_to_the_page_admin():
    draft = make_page(en=("Draft page", "draft-page"), publish=False)
    page = html(staff_client().get(f"/preview/{draft.pk}/"))
    assert f'href="/admin/pages/page/{draft.pk}/change/"' in page
    assert "draft, not visible to readers." in page and "See it on the site" not in page
    live = make_page(en=("Live page", "live-page"))
    page = html(staff_client().get(f"/preview/{live.pk}/"))
    assert 'href="/live-page/">See it on the site</a>' in page


def test_content_of_another_kind_is_previewed_plainly():
    with schema_context("acme"):
        note = content.node_create(
            data=NodeInput(kind="note", translations=[TranslationInput("en", "A note")])
        )
    page = html(staff_client().get(f"/preview/{note.pk}/"))
    assert "<h1>A note</h1>" in page and f'href="/admin/content/node/{note.pk}/change/"' in page
