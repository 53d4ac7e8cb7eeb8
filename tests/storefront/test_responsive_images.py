"""``srcset`` on the post page, the post cards, the home page's cards and pages' image blocks:
real rendition URLs that are served, the original alone until renditions exist, no extra query,
and never another tenant's files."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest
from django_tenants.utils import schema_context
from PIL import Image

from apps.blog import services as blog
from apps.blog.services import TranslationInput
from apps.content.models import Rendition
from tests.content.support import deliver_uploads, upload
from tests.index.support import project
from tests.pages.support import make_page

pytestmark = pytest.mark.usefixtures("media_root", "acme_site")

POST_SIZES = "(max-width: 48rem) calc(100vw - 2rem), (max-width: 72rem) calc(100vw - 22rem), 50rem"


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.found.append(dict(attrs))


def images(response, **match: str) -> list[dict[str, str | None]]:
    assert response.status_code == 200
    parser = _Images()
    parser.feed(response.content.decode())
    return [
        attrs
        for attrs in parser.found
        if all(attrs.get(key) == value for key, value in match.items())
    ]


def _post(schema: str = "acme", size=(1000, 600), *, renditions: bool = True) -> dict:
    """A published post whose image is ``size``; its renditions made (by the handler) or not."""
    with schema_context(schema):
        media = upload(size)
        node = blog.post_create(
            translations=[
                TranslationInput(locale="en", title="Sunrise", body="Early."),
                TranslationInput(locale="de", title="Sonnenaufgang", body="Früh."),
            ],
            og_image_id=media.pk,
        )
        blog.post_publish(post_id=node.pk)
    if renditions:
        deliver_uploads(schema)
    project(schema)
    with schema_context(schema):
        rows = list(Rendition.objects.filter(media=media).order_by("width"))
        return {
            "media": media,
            "url": media.file.url,
            "renditions": [(f"/media/{schema}/{row.file.name}", row.width) for row in rows],
        }


def _expected_srcset(post: dict) -> str:
    sources = [f"{url} {width}w" for url, width in post["renditions"]]
    return ", ".join([*sources, f"{post['url']} {post['media'].width}w"])


def sources(srcset: str) -> list[tuple[str, int]]:
    found = []
    for candidate in srcset.split(", "):
        url, descriptor = candidate.split(" ")
        found.append((url, int(descriptor.removesuffix("w"))))
    return found


def test_the_post_page_offers_every_rendition_and_each_is_served(
    acme_client, globex_client, settings
):
    settings.SERVE_MEDIA = True
    post = _post()
    assert [width for _, width in post["renditions"]] == [320, 640, 960]
    [image] = images(acme_client.get("/blog/sunrise/"), **{"class": "post__image"})
    assert image == {
        "class": "post__image", "src": post["url"], "srcset": _expected_srcset(post),
        "sizes": POST_SIZES, "alt": "Teal", "width": "1000", "height": "600",
        "fetchpriority": "high", "decoding": "async",
    }  # fmt: skip
    for url, width in sources(image["srcset"]):
        served = acme_client.get(url)
        assert served.status_code == 200 and served["Content-Type"] == "image/png"
        body = b"".join(served.streaming_content)
        assert Image.open(io.BytesIO(body)).width == width
        # Another tenant's host never serves this tenant's files.
        assert globex_client.get(url).status_code == 404


@pytest.mark.parametrize("path", ["/blog/", "/blog/?lang=de"])
def test_cards_offer_the_renditions_lazily(acme_client, path):
    post = _post()
    [card] = images(acme_client.get(path), **{"class": "post-card__image"})
    assert card["srcset"] == _expected_srcset(post) and card["sizes"] == POST_SIZES
    assert (card["src"], card["width"], card["height"]) == (post["url"], "1000", "600")
    assert card["loading"] == "eager"  # the first card: above the fold


def test_the_home_page_cards_offer_the_renditions(acme_client):
    post = _post()
    [card] = images(acme_client.get("/"), **{"class": "card__image"})
    assert card["srcset"] == _expected_srcset(post)
    assert card["sizes"] == "(max-width: 36rem) calc(100vw - 2rem), (max-width: 72rem) 50vw, 17rem"
    assert (card["src"], card["loading"], card["width"]) == (post["url"], "lazy", "1000")


def _page_with_blocks(media_id: str) -> None:
    make_page(
        en=("Pictures", "pictures"),
        blocks={
            "en": [
                {"type": "hero", "title": "Big", "image_id": media_id},
                {"type": "image", "media_id": media_id, "caption": "Teal"},
                {"type": "gallery", "images": [{"media_id": media_id}] * 2},
            ]
        },
    )


def test_image_blocks_offer_the_renditions(acme_client, settings):
    settings.SERVE_MEDIA = True
    with schema_context("acme"):
        media = upload((1000, 600))
    _page_with_blocks(str(media.pk))
    before = images(acme_client.get("/pictures/"))
    assert len(before) == 4 and all("srcset" not in image for image in before)
    deliver_uploads()
    shown = images(acme_client.get("/pictures/"))
    assert len(shown) == 4
    srcsets = {image["srcset"] for image in shown}
    [srcset] = srcsets
    assert [width for _, width in sources(srcset)] == [320, 640, 960, 1000]
    assert {image["sizes"] for image in shown} == {
        "(max-width: 48rem) calc(100vw - 4rem), 30rem",  # the hero
        "(max-width: 48rem) calc(100vw - 2rem), 46rem",  # the image block
        "(max-width: 30rem) calc(100vw - 2rem), (max-width: 48rem) 50vw, 16rem",  # the gallery
    }
    assert [image.get("loading") for image in shown] == [None, "lazy", "lazy", "lazy"]
    for url, _ in sources(srcset)[:-1]:
        served = acme_client.get(url)
        assert served.status_code == 200 and served["Content-Type"] == "image/png"


def test_until_renditions_exist_the_original_stands_alone(acme_client):
    post = _post(renditions=False)
    with schema_context("acme"):
        assert not Rendition.objects.exists()
    _page_with_blocks(str(post["media"].pk))
    for path, css_class in [
        ("/blog/sunrise/", "post__image"),
        ("/blog/", "post-card__image"),
        ("/", "card__image"),
    ]:
        [image] = images(acme_client.get(path), **{"class": css_class})
        assert image["src"] == post["url"] and (image["width"], image["height"]) == ("1000", "600")
        assert "srcset" not in image and "sizes" not in image
    assert all("srcset" not in image for image in images(acme_client.get("/pictures/")))


def test_an_image_too_small_for_renditions_has_no_srcset(acme_client):
    post = _post(size=(300, 200))
    assert post["renditions"] == []
    [image] = images(acme_client.get("/blog/sunrise/"), **{"class": "post__image"})
    assert "srcset" not in image and image["src"] == post["url"]


def _warm_counts(client, paths, django_assert_num_queries, counts) -> None:
    for path in paths:
        client.get(path)
    for path, expected in zip(paths, counts, strict=True):
        with django_assert_num_queries(expected):
            assert client.get(path).status_code == 200


# Warm (tenant, site and connection cached): the post with its image and renditions, its
# tags, its translations, two neighbours / a count, a page of cards, the months / nothing /
# the page, its ancestors and translations (3), the images with their renditions.
PATHS = ("/blog/sunrise/", "/blog/", "/", "/pictures/")
COUNTS = (5, 3, 0, 4)


def test_renditions_cost_no_query(acme_client, django_assert_num_queries):
    post = _post()
    _page_with_blocks(str(post["media"].pk))
    # Many posts with images and renditions on the list: still one query for the page of cards.
    for number in range(8):
        with schema_context("acme"):
            media = upload((700, 400), name=f"more-{number}.png")
            node = blog.post_create(
                translations=[TranslationInput(locale="en", title=f"More {number}")],
                og_image_id=media.pk,
            )
            blog.post_publish(post_id=node.pk)
    deliver_uploads()
    project()
    cards = images(acme_client.get("/blog/"), **{"class": "post-card__image"})
    assert len(cards) == 9 and all(card["srcset"] for card in cards)
    _warm_counts(acme_client, PATHS, django_assert_num_queries, COUNTS)


def test_without_renditions_the_same_pages_cost_the_same(acme_client, django_assert_num_queries):
    post = _post(renditions=False)
    _page_with_blocks(str(post["media"].pk))
    _warm_counts(acme_client, PATHS, django_assert_num_queries, COUNTS)


def test_another_tenants_renditions_never_appear(acme_client, globex_client, globex_site):
    mine, theirs = _post("acme"), _post("globex")
    assert mine["renditions"] and theirs["renditions"]
    for client, own, other in [(acme_client, "acme", "globex"), (globex_client, "globex", "acme")]:
        for path, css_class in [
            ("/blog/sunrise/", "post__image"),
            ("/blog/", "post-card__image"),
            ("/", "card__image"),
        ]:
            [image] = images(client.get(path), **{"class": css_class})
            urls = [url for url, _ in sources(image["srcset"])]
            assert len(urls) == 4 and all(url.startswith(f"/media/{own}/") for url in urls)
            assert f"/media/{other}/" not in client.get(path).content.decode()
