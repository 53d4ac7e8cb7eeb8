"""Pages services: pages with layouts, the home flag, menus; validation, events, the site cache."""

import uuid

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.events import relay
from apps.events.ledger.models import ProcessedEvent
from apps.events.models import OutboxEvent
from apps.pages import selectors, services, site
from apps.pages.errors import MenuNotFound, PagesInvalid
from apps.pages.models import Menu, MenuItem, PageLayout
from apps.pages.services import MenuItemInput, PageInput
from tests.pages.support import events, layout_of, make_page, translations, upload


@pytest.fixture
def in_acme(acme_site):
    with schema_context("acme"):
        yield


def test_page_create_makes_a_page_node_and_its_layout_in_one_transaction(in_acme):
    layout = services.page_create(
        data=PageInput(
            translations=translations(en=("About us", "about"), de=("Über uns", "ueber-uns")),
            template="sidebar",
            blocks={"en": [{"type": "rich_text", "body": "Hi"}]},
        )
    )
    node = layout.node
    assert (node.kind, node.status) == ("page", "draft")
    assert (layout.template, layout.version, layout.is_home) == ("sidebar", 1, False)
    assert layout.blocks["en"][0]["format"] == "markdown"  # normalized
    types = list(OutboxEvent.objects.order_by("position").values_list("event_type", flat=True))
    assert types[0] == "content.node.created" and types[-1] == "pages.layout.updated"
    (event,) = events("pages.layout.updated")
    assert event.aggregate_id == str(node.pk)
    assert event.payload["block_count"] == 1 and event.payload["locales"] == ["en"]


def test_an_invalid_page_leaves_nothing_behind(in_acme):
    with pytest.raises(PagesInvalid) as caught:
        services.page_create(
            data=PageInput(
                translations=translations(en="Broken"), blocks={"en": [{"type": "hero"}]}
            )
        )
    assert "blocks.en[0].title" in caught.value.errors
    assert not PageLayout.objects.exists() and not OutboxEvent.objects.exists()
    with pytest.raises(PagesInvalid, match="template"):
        services.page_create(data=PageInput(translations=translations(en="X"), template="fancy"))


@pytest.mark.parametrize("slug", ["blog", "admin", "api", "preview", "media"])
def test_top_level_slugs_the_site_answers_itself_are_refused(in_acme, slug):
    with pytest.raises(PagesInvalid) as caught:
        services.page_create(data=PageInput(translations=translations(en=("X", slug))))
    assert "translations.en.slug" in caught.value.errors
    parent = make_page(en=("Parent", "parent"))
    services.page_create(
        data=PageInput(translations=translations(en=("X", slug)), parent_id=parent.pk)
    )


def test_the_parent_must_be_a_page(in_acme):
    post = content.node_create(
        data=content.NodeInput(kind="post", translations=translations(en="P"))
    )
    with pytest.raises(PagesInvalid, match="parent"):
        services.page_create(data=PageInput(translations=translations(en="X"), parent_id=post.pk))


def test_layout_save_changes_bump_the_version_and_a_no_op_publishes_nothing(in_acme):
    page = make_page(en=("About", "about"))
    before = len(events("pages.layout.updated"))
    same = services.layout_save(node_id=page.pk, template="default", blocks={})
    assert same.version == 1 and len(events("pages.layout.updated")) == before
    changed = services.layout_save(
        node_id=page.pk,
        blocks={"en": [{"type": "faq", "items": [{"question": "Q", "answer": "A"}]}]},
    )
    assert changed.version == 2
    assert events("pages.layout.updated")[-1].payload["block_count"] == 1


def test_layout_save_creates_a_missing_layout_and_refuses_non_pages(in_acme):
    node = content.node_create(
        data=content.NodeInput(kind="page", translations=translations(en="Bare"))
    )
    layout = services.layout_save(node_id=node.pk, template="landing")
    assert (layout.template, layout.version) == ("landing", 1)
    post = content.node_create(
        data=content.NodeInput(kind="post", translations=translations(en="P"))
    )
    with pytest.raises(PagesInvalid, match="node"):
        services.layout_save(node_id=post.pk, template="landing")


def test_images_in_blocks_must_exist(in_acme, media_root):
    page = make_page(en=("Gallery", "gallery"))
    picture = upload()
    missing = str(uuid.uuid4())
    with pytest.raises(PagesInvalid) as caught:
        services.layout_save(
            node_id=page.pk,
            blocks={"en": [{"type": "gallery", "images": [{"media_id": str(picture)}, {"media_id": missing}]}]},
        )  # fmt: skip
    assert caught.value.errors == {"blocks.en[0].images[1].media_id": "no such media"}
    services.layout_save(
        node_id=page.pk, blocks={"en": [{"type": "image", "media_id": str(picture)}]}
    )


def test_one_home_page_at_a_time(in_acme):
    first = make_page(en=("Home", "home"), is_home=True)
    second = make_page(en=("New home", "new-home"))
    services.layout_save(node_id=second.pk, is_home=True)
    assert layout_of(second).is_home and not layout_of(first).is_home
    assert layout_of(first).version == 2
    homes = [e.payload["is_home"] for e in events("pages.layout.updated")[-2:]]
    assert homes == [False, True]  # the previous home first, then the new one
    assert selectors.home_page().pk == second.pk


def test_layout_delete(in_acme):
    page = make_page(en=("About", "about"))
    services.layout_delete(node_id=page.pk)
    assert not PageLayout.objects.filter(pk=page.pk).exists()
    assert events("pages.layout.deleted")[0].payload["version"] == 2
    with pytest.raises(PagesInvalid):
        services.layout_delete(node_id=page.pk)


# -- menus --------------------------------------------------------------------------


def test_menu_with_nested_items_pointing_at_pages_and_urls(in_acme):
    about = make_page(en=("About", "about"))
    team = make_page(en=("Team", "team"), parent=about)
    menu = services.menu_create(slug="header", name="Header")
    services.menu_set_items(
        menu_id=menu.pk,
        items=[
            MenuItemInput(label={"en": "Home"}, url="/"),
            MenuItemInput(page_id=about.pk, children=[MenuItemInput(page_id=team.pk)]),
        ],
    )
    items = list(MenuItem.objects.filter(menu=menu).order_by("id"))
    assert [(i.url, i.page_id, i.parent_id is not None) for i in items] == [
        ("/", None, False), ("", about.pk, False), ("", team.pk, True),
    ]  # fmt: skip
    assert [e.event_type for e in OutboxEvent.objects.filter(aggregate_type="menu").order_by("position")] == [
        "pages.menu.created", "pages.menu.updated",
    ]  # fmt: skip
    assert events("pages.menu.updated")[-1].payload == {
        "menu_id": menu.pk, "slug": "header", "version": 2, "item_count": 3,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (MenuItemInput(label={"en": "Both"}, url="/x/", page_id=uuid.uuid4()), "items[0].url"),
        (MenuItemInput(label={"en": "Neither"}), "items[0].page"),
        (MenuItemInput(label={"en": "Evil"}, url="javascript:alert(1)"), "items[0].url"),
        (MenuItemInput(label={"en": "Away"}, url="//evil.test/"), "items[0].url"),
        (MenuItemInput(url="/no-label/"), "items[0].label"),
        (MenuItemInput(label={"fr": "Salut"}, url="/"), "items[0].label.fr"),
        (MenuItemInput(label={"en": "x" * 121}, url="/"), "items[0].label.en"),
        (MenuItemInput(label="About", url="/"), "items[0].label"),
        (MenuItemInput(page_id=uuid.uuid4()), "items[0].page"),
        (
            MenuItemInput(
                label={"en": "A"}, url="/a/", children=[MenuItemInput(label={"en": "B"})]
            ),
            "items[0].children[0].page",
        ),
    ],
)
def test_menu_items_are_validated_naming_the_item(in_acme, item, field):
    menu = services.menu_create(slug="header", name="Header")
    with pytest.raises(PagesInvalid) as caught:
        services.menu_set_items(menu_id=menu.pk, items=[item])
    assert field in caught.value.errors, caught.value.errors
    assert not MenuItem.objects.exists()


def test_menu_items_pointing_at_posts_are_refused(in_acme):
    post = content.node_create(
        data=content.NodeInput(kind="post", translations=translations(en="P"))
    )
    menu = services.menu_create(slug="header", name="Header")
    with pytest.raises(PagesInvalid, match="no such page"):
        services.menu_item_add(menu_id=menu.pk, label={}, page_id=post.pk)


def test_menus_nest_three_levels_at_most(in_acme):
    menu = services.menu_create(slug="header", name="Header")
    deep = MenuItemInput(label={"en": "4"}, url="/4/")
    for level in (3, 2, 1):
        deep = MenuItemInput(label={"en": str(level)}, url=f"/{level}/", children=[deep])
    with pytest.raises(PagesInvalid, match="3 levels"):
        services.menu_set_items(menu_id=menu.pk, items=[deep])
    one = services.menu_item_add(menu_id=menu.pk, label={"en": "1"}, url="/1/")
    two = services.menu_item_add(menu_id=menu.pk, label={"en": "2"}, url="/2/", parent_id=one.pk)
    three = services.menu_item_add(menu_id=menu.pk, label={"en": "3"}, url="/3/", parent_id=two.pk)
    with pytest.raises(PagesInvalid, match="3 levels"):
        services.menu_item_add(menu_id=menu.pk, label={"en": "4"}, url="/4/", parent_id=three.pk)
    with pytest.raises(PagesInvalid, match="under itself"):
        services.menu_item_update(item_id=one.pk, label={"en": "1"}, url="/1/", parent_id=three.pk)


def test_menu_item_update_and_delete(in_acme):
    menu = services.menu_create(slug="footer", name="Footer")
    item = services.menu_item_add(menu_id=menu.pk, label={"en": "Blog"}, url="/blog/")
    child = services.menu_item_add(
        menu_id=menu.pk, label={"en": "RSS"}, url="/blog/feed/", parent_id=item.pk
    )
    version = Menu.objects.get(pk=menu.pk).version
    services.menu_item_update(item_id=item.pk, label={"en": "Blog"}, url="/blog/")  # no change
    assert Menu.objects.get(pk=menu.pk).version == version
    services.menu_item_update(
        item_id=item.pk, label={"en": "Journal", "de": "Journal"}, url="/blog/"
    )
    assert MenuItem.objects.get(pk=item.pk).label == {"en": "Journal", "de": "Journal"}
    services.menu_item_delete(item_id=item.pk)
    assert not MenuItem.objects.filter(pk__in=[item.pk, child.pk]).exists()
    assert Menu.objects.get(pk=menu.pk).version == version + 2


def test_menu_slugs_are_unique_and_menus_can_be_renamed_and_deleted(in_acme):
    menu = services.menu_create(slug="header", name="Header")
    with pytest.raises(PagesInvalid, match="taken"):
        services.menu_create(slug="header", name="Again")
    with pytest.raises(PagesInvalid, match="slug"):
        services.menu_create(slug="Not a slug", name="X")
    services.menu_update(menu_id=menu.pk, name="Top")
    assert Menu.objects.get(pk=menu.pk).name == "Top"
    services.menu_delete(menu_id=menu.pk)
    assert events("pages.menu.deleted")[0].payload["slug"] == "header"
    with pytest.raises(MenuNotFound):
        services.menu_delete(menu_id=menu.pk)


# -- the site cache ----------------------------------------------------------------------


def test_every_write_makes_the_site_snapshot_rebuild(in_acme):
    generations = [site.generation()]
    services.menu_create(slug="header", name="Header")
    generations.append(site.generation())
    page = make_page(en=("About", "about"))
    generations.append(site.generation())
    services.layout_save(node_id=page.pk, template="landing")
    generations.append(site.generation())
    assert len(set(generations)) == len(generations)


@pytest.fixture
def committed_site(committed_content):
    """acme with content that commits, so that the relay delivers its events; menus go after."""
    yield
    with schema_context("acme"):
        Menu.objects.all().delete()


def test_deleting_a_page_node_takes_its_layout_and_empties_its_menu_items(committed_site):
    page = make_page(en=("Gone soon", "gone"))
    with schema_context("acme"):
        menu = services.menu_create(slug="header", name="Header")
        item = services.menu_item_add(menu_id=menu.pk, label={}, page_id=page.pk)
    relay.drain()  # what the writes so far published
    with schema_context("acme"):
        cached = selectors.site_snapshot(locales=["en"])
        assert [entry["label"] for entry in cached["menus"]["header"]] == [{"en": "Gone soon"}]

        content.node_delete(node_id=page.pk)

        assert not PageLayout.objects.filter(pk=page.pk).exists()
        assert MenuItem.objects.get(pk=item.pk).page_id is None
        assert selectors.site_snapshot(locales=["en"]) == cached  # pages has not been told yet
    (deleted,) = events("content.node.deleted")
    relay.drain()
    with schema_context("acme"):
        handled = ProcessedEvent.objects.filter(handlers__contains=["pages.site_cache"])
        assert handled.filter(event_id=deleted.event_id).exists()
        assert selectors.site_snapshot(locales=["en"])["menus"] == {"header": []}
