"""Feed categories appear once per item; sitemap.xml lists the blog's index in every locale."""

import xml.etree.ElementTree as ET

import pytest
from django_tenants.utils import schema_context

from apps.content.models import Node
from tests.index.support import category, post, project
from tests.pages.support import acme_site, make_post  # noqa: F401

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def _xml(response):
    assert response.status_code == 200
    return ET.fromstring(response.content)  # noqa: S314 - our own output


def test_a_category_named_like_a_tag_appears_once_per_item(acme_client):
    # As in the demo: category "News" and tag "News" (here spelled "news").
    with schema_context("acme"):
        post("Hello", category=category("News"), tags=("news", "python", "Python"))
    project()
    [item] = _xml(acme_client.get("/blog/feed/")).find("channel").findall("item")
    assert [c.text for c in item.findall("category")] == ["News", "python"]
    [entry] = _xml(acme_client.get("/blog/feed/atom/")).findall(f"{ATOM}entry")
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["News", "python"]


def _sitemap(client) -> dict[str, tuple[set[str], str | None]]:
    root = _xml(client.get("/sitemap.xml"))
    return {
        url.findtext(f"{SITEMAP}loc"): (
            {link.get("hreflang") for link in url.findall(f"{XHTML}link")},
            url.findtext(f"{SITEMAP}lastmod"),
        )
        for url in root.findall(f"{SITEMAP}url")
    }


@pytest.mark.usefixtures("acme_site")
def test_the_sitemap_lists_the_blog_index_in_every_locale(acme_client):
    node = make_post("First post", de="Erster Beitrag")
    urls = _sitemap(acme_client)
    with schema_context("acme"):
        updated = Node.objects.get(pk=node.pk).updated_at.isoformat()
    base = "http://acme.localhost"
    assert urls[f"{base}/blog/"] == ({"en", "de"}, updated)
    assert urls[f"{base}/blog/?lang=de"] == ({"en", "de"}, updated)
    assert {loc for loc in urls if loc.startswith(f"{base}/blog/")} == {
        f"{base}/blog/", f"{base}/blog/?lang=de",
        f"{base}/blog/first-post/", f"{base}/blog/erster-beitrag/?lang=de",
    }  # fmt: skip
