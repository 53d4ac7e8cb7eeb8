"""An author's login email is private: readers see a name they gave, else a neutral label."""

from django_tenants.utils import schema_context

from tests.index.support import author, post, project

EMAIL_PART = "author-"  # the factory's usernames (login emails) start with this


def _public_pages(client, node_slug: str, author_id: int) -> dict[str, str]:
    paths = {
        "post": f"/blog/{node_slug}/",
        "list": "/blog/",
        "author": f"/blog/author/{author_id}/",
        "search": "/blog/search/?q=unnamed",
        "rss": "/blog/feed/",
        "atom": "/blog/feed/atom/",
    }
    pages = {}
    for name, path in paths.items():
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.content.decode()
    return pages


def test_an_author_without_a_name_is_shown_as_staff_never_by_email(acme_client):
    with schema_context("acme"):
        writer = author(first="", last="")
        post("Unnamed words", "unnamed words here", slug="unnamed-words", by=writer)
        project()
    for name, page in _public_pages(acme_client, "unnamed-words", writer.pk).items():
        assert writer.username not in page and EMAIL_PART not in page, name
        assert "Staff writer" in page, name


def test_an_author_with_a_name_is_shown_by_it(acme_client):
    with schema_context("acme"):
        writer = author(first="Grace", last="Hopper")
        post("Named words", "unnamed words too", slug="named-words", by=writer)
        project()
    pages = _public_pages(acme_client, "named-words", writer.pk)
    for name in ("post", "list", "author", "rss", "atom"):
        assert "Grace Hopper" in pages[name], name
        assert writer.username not in pages[name], name
