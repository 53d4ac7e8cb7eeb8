"""The tenant's admin names its tenant, and labels items by their title, never by their id."""

from __future__ import annotations

import html
import re

from django.contrib.admin.models import LogEntry
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node
from tests.factories import StaffFactory

from .conftest import NODES, make_node, messages_of, node_form_data, page
from .test_media_categories_tags import media_root, png  # noqa: F401 (fixture)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def title_tag(content: str) -> str:
    return re.search(r"<title>(.*?)</title>", content, re.S).group(1)


def header(content: str) -> str:
    return re.search(r'<div id="site-name">(.*?)</div>', content, re.S).group(1)


def test_each_tenant_admin_names_its_tenant(editor_client, globex_client, acme, globex):
    assert acme.name and globex.name and acme.name != globex.name
    with schema_context("globex"):
        globex_client.force_login(StaffFactory(email="ed@globex.test", is_superuser=True))

    pages = {
        acme.name: page(editor_client.get("/admin/")),
        globex.name: page(globex_client.get("/admin/")),
    }

    for name, content in pages.items():
        assert name in html.unescape(header(content))
        assert name in html.unescape(title_tag(content))
        assert name in html.unescape(re.search(r"<h1>(.*?)</h1>", content, re.S).group(1))
        assert "Django site admin" not in content and "Django administration" not in content
    assert globex.name not in pages[acme.name] and acme.name not in pages[globex.name]


def test_a_post_added_in_the_admin_is_reported_and_logged_by_its_title(editor_client):
    response = editor_client.post(
        f"{NODES}add/",
        node_form_data(
            **{"translations-0-title": "Spring sale"},
        ),
        follow=True,
    )

    assert response.status_code == 200
    [message] = messages_of(response)
    text = re.sub(r"<[^>]+>", "", message)  # the link to the post holds its id, the text not
    assert text == "The post “Spring sale” was added successfully.", message
    with schema_context("acme"):
        node = Node.objects.get()
        entry = LogEntry.objects.get(object_id=str(node.pk))
    assert entry.object_repr == "Spring sale"
    index = page(editor_client.get("/admin/"))
    recent = index[index.find('id="recent-actions-module"') :]
    recent_text = re.sub(r"<[^>]+>", " ", recent.split("</div>")[0])
    assert "Spring sale" in recent_text and not UUID.search(recent_text)


def test_a_node_is_titled_in_the_default_locale_else_any_else_untitled_by_kind(acme_de):
    both = make_node(translations={"de": {"title": "Hallo"}, "en": {"title": "Hello"}})
    german = make_node(translations={"de": {"title": "Nur Deutsch"}})
    with schema_context("acme"):
        assert str(Node.objects.get(pk=both.pk)) == "Hello"
        assert str(Node.objects.get(pk=german.pk)) == "Nur Deutsch"
        assert str(Node(kind="page")) == "Untitled page"
        bare = Node.objects.get(pk=german.pk)
        bare.translations.all().delete()
        assert str(Node.objects.get(pk=bare.pk)) == "Untitled post"


def test_the_change_page_breadcrumb_shows_the_title(editor_client):
    node = make_node(title="About our shop")
    content = page(editor_client.get(f"{NODES}{node.pk}/change/"))
    breadcrumbs = content[content.find('class="breadcrumbs"') :]
    breadcrumbs = breadcrumbs[: breadcrumbs.find("</div>")]
    assert "About our shop" in breadcrumbs
    assert str(node.pk) not in breadcrumbs


def test_media_are_labelled_by_alt_text_else_file_name():
    with schema_context("acme"):
        described = services.media_upload(file=png("bike.png"), alt_text={"en": "A red bike"})
        bare = services.media_upload(file=png("plain-square.png"), alt_text={})
        assert str(described) == "A red bike"
        assert str(bare).startswith("plain-square") and str(bare).endswith(".png")
        assert "/" not in str(bare)
