"""The home page's cards name a post's category in the reader's locale, and follow a new name."""

from django_tenants.utils import schema_context

from apps.content import services as content
from tests.index.support import project
from tests.pages.support import deliver_to_pages, make_post


def test_home_cards_name_the_category_in_the_readers_locale(acme_client, acme_site):
    with schema_context("acme"):
        news = content.category_create(name="News", translations={"de": {"name": "Neuigkeiten"}})
    node = make_post("Newest", de="Neueste")
    with schema_context("acme"):
        content.node_update(node_id=node.pk, category_id=news.pk)
    project()
    deliver_to_pages()
    assert " · News</p>" in acme_client.get("/?lang=en").content.decode()
    assert " · Neuigkeiten</p>" in acme_client.get("/?lang=de").content.decode()

    with schema_context("acme"):
        content.category_update(category_id=news.pk, translations={"de": {"name": "Nachrichten"}})
    project()
    deliver_to_pages()  # the site cache (with the cards) is dropped
    german = acme_client.get("/?lang=de").content.decode()
    assert " · Nachrichten</p>" in german and "Neuigkeiten" not in german
