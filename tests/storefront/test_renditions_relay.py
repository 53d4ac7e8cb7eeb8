"""Committed uploads get their renditions from the relay, and the storefront offers them."""

import pytest
from django_tenants.utils import schema_context

from apps.blog import services as blog
from apps.blog.services import TranslationInput
from apps.content.models import Rendition
from apps.events import relay
from tests.conftest import tenant_client
from tests.content.support import upload
from tests.index.support import committed_content  # noqa: F401
from tests.storefront.test_responsive_images import images, sources

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.mark.usefixtures("committed_content")
def test_the_relay_makes_the_renditions_and_the_home_page_shows_them():
    client = tenant_client("acme")
    with schema_context("acme"):
        media = upload((1000, 600))
        node = blog.post_create(
            translations=[TranslationInput(locale="en", title="Relayed")], og_image_id=media.pk
        )
        blog.post_publish(post_id=node.pk)
        assert not Rendition.objects.exists()  # the upload left the resizing to the outbox
    relay.drain()
    with schema_context("acme"):
        assert list(Rendition.objects.order_by("width").values_list("width", flat=True)) == [
            320,
            640,
            960,
        ]
    [card] = images(client.get("/"), **{"class": "card__image"})
    assert [width for _, width in sources(card["srcset"])] == [320, 640, 960, 1000]
    [image] = images(client.get("/blog/relayed/"), **{"class": "post__image"})
    assert image["srcset"] == card["srcset"]
