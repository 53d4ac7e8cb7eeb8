"""Committed content reaches the storefront's cached frame through the relay and the pages handler."""

from django_tenants.utils import schema_context

from apps.content import services as content
from apps.content.services import NodeInput, TranslationInput
from apps.events import relay
from tests.conftest import tenant_client
from tests.index.support import committed_content  # noqa: F401


def test_a_published_post_shows_on_the_home_page_once_relayed(committed_content):  # noqa: F811
    client = tenant_client("acme")
    assert "Relayed news" not in client.get("/").content.decode()  # now cached
    with schema_context("acme"):
        post = content.node_create(
            data=NodeInput(kind="post", translations=[TranslationInput("en", "Relayed news")])
        )
        content.node_publish(node_id=post.pk)
    assert "Relayed news" not in client.get("/").content.decode()  # not told yet
    relay.drain()
    assert "Relayed news" in client.get("/").content.decode()
