"""An author's login email is private: readers see a name they gave, else a neutral label."""

from django_tenants.utils import schema_context

from apps.events.relay import drain
from apps.index.models import ContentListing
from apps.people import services as people
from tests.conftest import as_tenant_admin, tenant_client
from tests.index.support import author, committed_content, post, project  # noqa: F401

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


def test_a_display_name_shows_everywhere_once_the_relay_has_run(committed_content):  # noqa: F811
    client = tenant_client("acme")
    with schema_context("acme"):
        writer = author(first="Grace", last="Hopper")
        other = author(first="Alan", last="Turing")
        mine = post("Compilers for all", "unnamed compilers", slug="compilers", by=writer)
        post("Machines that think", "unnamed machines", slug="machines", by=other)
    drain()
    before = _public_pages(client, "compilers", writer.pk)
    assert all("Grace Hopper" in before[name] for name in ("post", "author", "rss", "atom"))

    with schema_context("acme"):
        people.profile_update(user_id=writer.pk, display_name="Amazing Grace", actor=writer)
    # The post page reads the author live; the listing's rows wait for the relay.
    assert "Amazing Grace" in _public_pages(client, "compilers", writer.pk)["post"]
    assert "Amazing Grace" not in client.get("/blog/feed/").content.decode()
    drain()

    pages = _public_pages(client, "compilers", writer.pk)
    for name in ("post", "list", "author", "search", "rss", "atom"):
        assert "Amazing Grace" in pages[name], name
        assert writer.username not in pages[name], name
    assert 'xmlns:dc="http://purl.org/dc/elements/1.1/">Amazing Grace</dc:creator>' in pages["rss"]
    assert "<name>Amazing Grace</name>" in pages["atom"]
    # Only this author's rows changed: the other author keeps his name.
    assert "Alan Turing" in pages["list"] and "Grace Hopper" not in pages["list"]

    api = as_tenant_admin(tenant_client("acme"))
    body = api.get(f"/api/v1/posts/{mine.pk}/").json()
    assert body["author"] == {"id": writer.pk, "name": "Amazing Grace"}
    with schema_context("acme"):
        rows = ContentListing.objects.filter(author_id=writer.pk).values_list(
            "author_name", flat=True
        )
        assert list(rows) == ["Amazing Grace"]
