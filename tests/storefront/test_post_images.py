"""A post's image (its ``og_image``) on the post page, on its cards and in its social meta."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django_tenants.utils import schema_context

from apps.blog import services as blog
from apps.blog.services import TranslationInput
from apps.content import services as content
from tests.index.support import project
from tests.pages.support import png_upload

pytestmark = pytest.mark.usefixtures("media_root", "acme_site")


class _Tags(HTMLParser):
    """Every start tag of a page, as (name, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def _tags(response, name: str, **match: str) -> list[dict[str, str | None]]:
    assert response.status_code == 200
    parser = _Tags()
    parser.feed(response.content.decode())
    return [
        attrs
        for tag, attrs in parser.found
        if tag == name and all(attrs.get(key) == value for key, value in match.items())
    ]


def _meta(response) -> dict[str, str | None]:
    """``<meta property|name=... content=...>`` of the page, by property or name."""
    found = {}
    for attrs in _tags(response, "meta"):
        key = attrs.get("property") or attrs.get("name")
        if key:
            assert key not in found, f"{key} twice"
            found[key] = attrs.get("content")
    return found


def _post_with_image(size=(640, 360), title=("Sunrise", "Sonnenaufgang")):
    with schema_context("acme"):
        media = content.media_upload(
            file=png_upload(size=size), alt_text={"en": "A sunrise", "de": "Ein Sonnenaufgang"}
        )
        node = blog.post_create(
            translations=[
                TranslationInput(locale="en", title=title[0], body="Early."),
                TranslationInput(locale="de", title=title[1], body="Früh."),
            ],
            og_image_id=media.pk,
        )
        blog.post_publish(post_id=node.pk)
        url = media.file.url
    project()
    return url


def test_the_post_page_shows_its_image_above_the_fold(acme_client):
    url = _post_with_image()
    english = acme_client.get("/blog/sunrise/")
    [image] = _tags(english, "img", **{"class": "post__image"})
    assert image == {
        "class": "post__image", "src": url, "alt": "A sunrise", "width": "640", "height": "360",
        "fetchpriority": "high", "decoding": "async",
    }  # fmt: skip
    assert "loading" not in image
    [german] = _tags(acme_client.get("/blog/sonnenaufgang/?lang=de"), "img", src=url)
    assert german["alt"] == "Ein Sonnenaufgang"


def test_the_post_page_has_social_meta_for_its_image(acme_client):
    url = _post_with_image()
    meta = _meta(acme_client.get("/blog/sunrise/"))
    absolute = f"http://acme.localhost{url}"
    assert meta["og:image"] == absolute and meta["twitter:image"] == absolute
    assert (meta["og:image:width"], meta["og:image:height"]) == ("640", "360")
    assert meta["og:image:alt"] == "A sunrise"
    assert meta["twitter:card"] == "summary_large_image"
    assert _meta(acme_client.get("/blog/sonnenaufgang/?lang=de"))["og:image:alt"] == (
        "Ein Sonnenaufgang"
    )


def test_a_post_without_an_image_is_a_summary_card(acme_client):
    with schema_context("acme"):
        node = blog.post_create(translations=[TranslationInput(locale="en", title="Plain")])
        blog.post_publish(post_id=node.pk)
    project()
    response = acme_client.get("/blog/plain/")
    meta = _meta(response)
    assert meta["twitter:card"] == "summary"
    assert not {"og:image", "og:image:width", "twitter:image"} & set(meta)
    assert _tags(response, "img") == []
    assert _tags(acme_client.get("/blog/"), "img") == []


@pytest.mark.parametrize(
    ("path", "alt"),
    [("/blog/", "A sunrise"), ("/blog/?lang=de", "Ein Sonnenaufgang")],
)
def test_cards_show_the_image_with_its_size_lazily_below_the_first(acme_client, path, alt):
    older = _post_with_image(size=(320, 200), title=("Dawn", "Morgengrauen"))
    newest = _post_with_image(size=(320, 200))
    page = acme_client.get(path)
    card = {"class": "post-card__image", "alt": alt, "width": "320", "height": "200"}
    # The first card is above the fold: fetched first; the others when scrolled to.
    assert _tags(page, "img", src=newest) == [
        {**card, "src": newest, "loading": "eager", "fetchpriority": "high", "decoding": "async"}
    ]
    assert _tags(page, "img", src=older) == [
        {**card, "src": older, "loading": "lazy", "decoding": "async"}
    ]


def test_the_image_costs_no_query(acme_client, django_assert_max_num_queries):
    _post_with_image()
    acme_client.get("/blog/sunrise/")
    acme_client.get("/blog/")
    # As without an image: search_path, the post, its tags, its translations, two neighbours.
    with django_assert_max_num_queries(6):
        assert _tags(acme_client.get("/blog/sunrise/"), "img", **{"class": "post__image"})
    # search_path, a count, a page, the months.
    with django_assert_max_num_queries(4):
        assert _tags(acme_client.get("/blog/"), "img", **{"class": "post-card__image"})
