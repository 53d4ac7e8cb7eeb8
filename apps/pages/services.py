"""Every write to pages: layouts (blocks, template, home flag) and menus.

The page itself is a content node of kind "page": ``page_create``,
``page_update``, ``page_transition`` and ``page_delete`` write it through
``apps.content.services`` with the pages' rules (root slugs, a page's parent is
a page) and, in the same transaction, what pages own (the layout), so that the
admin, the API and the commands make one call per operation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext

from apps.content import selectors as content_selectors
from apps.content import services as content_services
from apps.content.models import Node
from apps.content.selectors import current_locales
from apps.content.services import NodeInput, TranslationInput
from apps.core.models import ancestors, model_update, would_cycle
from apps.events.publisher import publish

from . import events, site
from .blocks import media_references, validate_blocks
from .errors import MenuNotFound, PagesInvalid
from .links import clean_link
from .models import PAGE_KIND, Menu, MenuItem, PageLayout, PageTemplate
from .selectors import media_by_id

# First-level slugs that other parts of the site already answer: a root page there would be hidden.
RESERVED_ROOT_SLUGS = frozenset(
    {
        "admin", "api", "blog", "feeds", "health", "media", "metrics", "preview", "robots-txt",
        "search", "sitemap-xml", "static",
    }
)  # fmt: skip
MENU_SLUG_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
MAX_MENU_DEPTH = 3
MAX_MENU_ITEMS = 200
LABEL_MAX_LENGTH = 120


# -- pages and their layouts ------------------------------------------------------


@dataclass
class PageInput:
    translations: list[TranslationInput]
    parent_id: UUID | None = None
    position: int = 0
    template: str = PageTemplate.DEFAULT
    is_home: bool = False
    blocks: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    publish_at: datetime | None = None


def _clean_template(template: str) -> str:
    if template not in PageTemplate.values:
        raise PagesInvalid(
            {
                "template": gettext("must be one of %(choices)s")
                % {"choices": ", ".join(PageTemplate.values)}
            }
        )
    return template


def clean_blocks(blocks: Any) -> dict[str, list[dict[str, Any]]]:
    """Blocks validated (``PagesInvalid`` naming each bad field) and their images checked."""
    cleaned = validate_blocks(blocks, locales=current_locales())
    references = list(media_references(cleaned))
    known = media_by_id(media_id for _, media_id in references)
    missing = {path: "no such media" for path, media_id in references if media_id not in known}
    if missing:
        raise PagesInvalid(missing)
    return cleaned


def _check_root_slugs(translations: list[TranslationInput]) -> None:
    for translation in translations:
        slug = slugify(translation.slug or translation.title)
        if slug in RESERVED_ROOT_SLUGS:
            raise PagesInvalid(
                {
                    f"translations.{translation.locale}.slug": f"'{slug}' is used by the site itself"
                    " at the top level; choose another slug or a parent page"
                }
            )


def _check_parent_is_page(parent_id: UUID | None) -> None:
    if parent_id is None:
        return
    parent = content_selectors.node_get(parent_id)
    if parent is None or parent.kind != PAGE_KIND:
        raise PagesInvalid({"parent": gettext("must be a page")})


def _page_rules(node: Node, translations: list[TranslationInput]) -> None:
    """The pages' rules on a page as it is about to be saved (content's ``NodeRules``)."""
    _check_parent_is_page(node.parent_id)
    if node.parent_id is None:
        _check_root_slugs(translations)


def page_create(*, data: PageInput, actor=None) -> PageLayout:
    """A new page (a draft content node of kind "page") with its layout."""
    template = _clean_template(data.template)
    blocks = clean_blocks(data.blocks)
    _check_parent_is_page(data.parent_id)
    if data.parent_id is None:
        _check_root_slugs(data.translations)
    with transaction.atomic():
        node = content_services.node_create(
            data=NodeInput(
                kind=PAGE_KIND,
                translations=data.translations,
                parent_id=data.parent_id,
                position=data.position,
                metadata=data.metadata,
                publish_at=data.publish_at,
            ),
            rules=_page_rules,
            actor=actor,
        )
        layout = PageLayout.objects.create(node=node, template=template, blocks=blocks)
        if data.is_home:
            _make_home(layout, actor=actor)
        _layout_published(layout, actor=actor)
    return layout


def page_update(
    *,
    node_id: UUID,
    fields: Mapping[str, Any] | None = None,
    translations: Mapping[str, Mapping[str, Any]] | None = None,
    delete_locales: Iterable[str] = (),
    template: str | None = None,
    is_home: bool | None = None,
    blocks: Any = None,
    actor=None,
) -> Node:
    """Change a page (its node fields and translations, checked by the pages' rules) and its
    layout in one transaction; the node's row is locked before the layout's."""
    with transaction.atomic():
        if fields or translations or delete_locales:
            content_services.node_patch(
                node_id=node_id, fields=fields, translations=translations,
                delete_locales=delete_locales, kind=PAGE_KIND, rules=_page_rules, actor=actor,
            )  # fmt: skip
        if template is not None or is_home is not None or blocks is not None:
            layout_save(
                node_id=node_id, template=template, is_home=is_home, blocks=blocks, actor=actor
            )
    node = content_selectors.node_get(node_id)
    if node is None or node.kind != PAGE_KIND:
        raise PagesInvalid({"node": gettext("must be a page")})
    return node


def page_transition(*, node_id: UUID, action: str, actor=None) -> Node:
    """``action`` of content's ``NODE_TRANSITIONS`` on a page."""
    return content_services.node_transition(
        node_id=node_id, action=action, kind=PAGE_KIND, actor=actor
    )


def page_schedule(*, node_id: UUID, publish_at: datetime | None, actor=None) -> Node:
    return content_services.node_schedule(
        node_id=node_id, publish_at=publish_at, kind=PAGE_KIND, actor=actor
    )


def _retire_layout(node: Node, *, actor) -> None:
    layout = PageLayout.objects.select_for_update().filter(node_id=node.pk).first()
    if layout is not None:
        publish(
            events.LayoutDeleted(node_id=layout.node_id, version=layout.version + 1), actor=actor
        )
        site.invalidate()


def page_delete(*, node_id: UUID, actor=None) -> None:
    """Delete a page without children, and its layout (locked after the node, deleted with it)."""
    content_services.node_delete(
        node_id=node_id,
        kind=PAGE_KIND,
        before_delete=lambda node: _retire_layout(node, actor=actor),
        actor=actor,
    )


def _layout_published(layout: PageLayout, *, actor) -> None:
    publish(
        events.LayoutUpdated(
            node_id=layout.node_id,
            version=layout.version,
            template=layout.template,
            is_home=layout.is_home,
            locales=sorted(layout.blocks),
            block_count=sum(len(blocks) for blocks in layout.blocks.values()),
        ),
        actor=actor,
    )
    site.invalidate()


def _make_home(layout: PageLayout, *, actor) -> None:
    """Mark ``layout`` as the home page; the previous home page, if any, no longer is."""
    for previous in (
        PageLayout.objects.select_for_update()
        .filter(is_home=True)
        .exclude(pk=layout.pk)
        .order_by("pk")
    ):
        previous.is_home = False
        previous.version += 1
        previous.save(update_fields=["is_home", "version", "updated_at"])
        _layout_published(previous, actor=actor)
    layout.is_home = True
    layout.save(update_fields=["is_home", "updated_at"])


def layout_save(
    *,
    node_id: UUID,
    template: str | None = None,
    is_home: bool | None = None,
    blocks: Any = None,
    actor=None,
) -> PageLayout:
    """Create or change the layout of page ``node_id``; a change that changes nothing publishes nothing."""
    changes: dict[str, Any] = {}
    if template is not None:
        changes["template"] = _clean_template(template)
    if blocks is not None:
        changes["blocks"] = clean_blocks(blocks)
    node = content_selectors.node_get(node_id)
    if node is None or node.kind != PAGE_KIND:
        raise PagesInvalid({"node": gettext("must be a page")})
    try:
        with transaction.atomic():
            layout = PageLayout.objects.select_for_update().filter(node_id=node.pk).first()
            created = layout is None
            if created:
                layout = PageLayout.objects.create(node_id=node.pk, **changes)
            changed = model_update(instance=layout, fields=changes, data=changes, save=False)
            if is_home is not None and is_home != layout.is_home:
                changed.append("is_home")
                if is_home:
                    _make_home(layout, actor=actor)
                else:
                    layout.is_home = False
            if not created and not changed:
                return layout
            if not created:
                layout.version += 1
            layout.save()
            _layout_published(layout, actor=actor)
    except IntegrityError:
        raise PagesInvalid(
            {"node": gettext("the layout was changed meanwhile; try again")}
        ) from None
    return layout


def layout_delete(*, node_id: UUID, actor=None) -> None:
    with transaction.atomic():
        layout = PageLayout.objects.select_for_update().filter(node_id=node_id).first()
        if layout is None:
            raise PagesInvalid({"node": gettext("this page has no layout")})
        event = events.LayoutDeleted(node_id=layout.node_id, version=layout.version + 1)
        layout.delete()
        publish(event, actor=actor)
        site.invalidate()


# -- menus ---------------------------------------------------------------------


@dataclass
class MenuItemInput:
    label: dict[str, str] = field(default_factory=dict)
    page_id: UUID | None = None
    url: str = ""
    children: list[MenuItemInput] = field(default_factory=list)


def clean_menu_item(
    *, label: Any, page_id: UUID | None, url: str, prefix: str = ""
) -> tuple[dict[str, str], UUID | None, str]:
    """A menu item's label, page and URL checked: exactly one target, a safe URL, known locales."""
    errors: dict[str, str] = {}
    locales = current_locales()
    cleaned_label: dict[str, str] = {}
    if not isinstance(label, dict):
        errors[f"{prefix}label"] = gettext("must be an object mapping a locale to a text")
    else:
        for locale, text in label.items():
            text = (text or "").strip() if isinstance(text, str) else None
            if locale not in locales:
                errors[f"{prefix}label.{locale}"] = gettext(
                    "'%(locale)s' is not enabled for this site"
                ) % {"locale": locale}
            elif text is None or len(text) > LABEL_MAX_LENGTH:
                errors[f"{prefix}label.{locale}"] = gettext(
                    "a text of at most %(count)s characters"
                ) % {"count": LABEL_MAX_LENGTH}
            elif text:
                cleaned_label[locale] = text
    url = (url or "").strip()
    if page_id and url:
        errors[f"{prefix}url"] = gettext("give a page or a URL, not both")
    elif not page_id and not url:
        errors[f"{prefix}page"] = gettext("give a page or a URL")
    elif url:
        try:
            url = clean_link(url)
        except ValueError as exc:
            errors[f"{prefix}url"] = str(exc)
        if not cleaned_label:
            errors.setdefault(f"{prefix}label", "a link to a URL needs a label")
    else:
        page = content_selectors.node_get(page_id)
        if page is None or page.kind != PAGE_KIND:
            errors[f"{prefix}page"] = gettext("no such page")
    if errors:
        raise PagesInvalid(errors)
    return cleaned_label, page_id or None, url


def _clean_menu_slug(slug: str) -> str:
    slug = (slug or "").strip()
    if not MENU_SLUG_RE.fullmatch(slug):
        raise PagesInvalid(
            {"slug": gettext("lowercase letters, digits, '-' or '_', up to 32 characters")}
        )
    return slug


def _clean_menu_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise PagesInvalid({"name": gettext("must be 1 to 120 characters")})
    return name


def _locked_menu(menu_id: int) -> Menu:
    menu = Menu.objects.select_for_update().filter(pk=menu_id).first()
    if menu is None:
        raise MenuNotFound(f"no menu {menu_id}")
    return menu


def _locked_menu_and_item(item_id: int) -> tuple[Menu | None, MenuItem | None]:
    """An item and its menu, locked in the one order every menu write uses: the menu first."""
    menu_id = MenuItem.objects.filter(pk=item_id).values_list("menu_id", flat=True).first()
    if menu_id is None:
        return None, None
    menu = _locked_menu(menu_id)
    # (An item never changes menus, so the menu read before the lock is still its menu.)
    return menu, MenuItem.objects.select_for_update().filter(pk=item_id).first()


def _menu_changed(menu: Menu, *, actor) -> None:
    menu.version += 1
    menu.save(update_fields=["version", "updated_at"])
    publish(
        events.MenuUpdated(
            menu_id=menu.pk, slug=menu.slug, version=menu.version, item_count=menu.items.count()
        ),
        actor=actor,
    )
    site.invalidate()


def menu_create(*, slug: str, name: str, actor=None) -> Menu:
    slug, name = _clean_menu_slug(slug), _clean_menu_name(name)
    try:
        with transaction.atomic():
            menu = Menu.objects.create(slug=slug, name=name)
            publish(events.MenuCreated(menu_id=menu.pk, slug=slug, version=1), actor=actor)
            site.invalidate()
    except IntegrityError:
        raise PagesInvalid({"slug": gettext("'%(slug)s' is taken") % {"slug": slug}}) from None
    return menu


def menu_update(
    *, menu_id: int, slug: str | None = None, name: str | None = None, actor=None
) -> Menu:
    try:
        with transaction.atomic():
            menu = _locked_menu(menu_id)
            new_slug = _clean_menu_slug(slug) if slug is not None else menu.slug
            new_name = _clean_menu_name(name) if name is not None else menu.name
            if (new_slug, new_name) == (menu.slug, menu.name):
                return menu
            menu.slug, menu.name = new_slug, new_name
            with transaction.atomic():
                menu.save(update_fields=["slug", "name", "updated_at"])
            _menu_changed(menu, actor=actor)
    except IntegrityError:
        raise PagesInvalid({"slug": gettext("'%(slug)s' is taken") % {"slug": slug}}) from None
    return menu


def menu_delete(*, menu_id: int, actor=None) -> None:
    with transaction.atomic():
        menu = _locked_menu(menu_id)
        event = events.MenuDeleted(menu_id=menu.pk, slug=menu.slug, version=menu.version + 1)
        menu.delete()
        publish(event, actor=actor)
        site.invalidate()


def _flatten(
    items: list[MenuItemInput], *, depth: int = 1, prefix: str = "items"
) -> list[tuple[str, int, MenuItemInput]]:
    """(field path, depth, item) of every item, parents before their children."""
    flat = []
    for index, item in enumerate(items):
        path = f"{prefix}[{index}]"
        if depth > MAX_MENU_DEPTH:
            raise PagesInvalid(
                {
                    path: gettext("menus nest %(depth)s levels deep at most")
                    % {"depth": MAX_MENU_DEPTH}
                }
            )
        flat.append((path, depth, item))
        flat += _flatten(item.children, depth=depth + 1, prefix=f"{path}.children")
    return flat


def menu_set_items(*, menu_id: int, items: list[MenuItemInput], actor=None) -> Menu:
    """Replace every item of a menu with ``items`` (a tree), validated as a whole first."""
    flat = _flatten(items)
    if len(flat) > MAX_MENU_ITEMS:
        raise PagesInvalid(
            {"items": gettext("at most %(count)s items") % {"count": MAX_MENU_ITEMS}}
        )
    errors: dict[str, str] = {}
    cleaned: dict[int, tuple[dict[str, str], UUID | None, str]] = {}
    for path, _depth, item in flat:
        try:
            cleaned[id(item)] = clean_menu_item(
                label=item.label, page_id=item.page_id, url=item.url, prefix=f"{path}."
            )
        except PagesInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise PagesInvalid(errors)
    with transaction.atomic():
        menu = _locked_menu(menu_id)
        menu.items.all().delete()

        def create(children: list[MenuItemInput], parent: MenuItem | None) -> None:
            for position, item in enumerate(children):
                label, page_id, url = cleaned[id(item)]
                row = MenuItem.objects.create(
                    menu=menu, parent=parent, position=position, label=label, page_id=page_id,
                    url=url,
                )  # fmt: skip
                create(item.children, row)

        create(items, None)
        _menu_changed(menu, actor=actor)
    return menu


def _depth(item: MenuItem | None) -> int:
    return sum(1 for _ in ancestors(item))


def _check_parent(menu: Menu, parent_id: int | None, item: MenuItem | None) -> MenuItem | None:
    if parent_id is None:
        return None
    parent = MenuItem.objects.filter(pk=parent_id, menu=menu).select_related("parent").first()
    if parent is None:
        raise PagesInvalid({"parent": gettext("must be an item of the same menu")})
    if would_cycle(item, parent):
        raise PagesInvalid({"parent": gettext("an item cannot be nested under itself")})
    if _depth(parent) + 1 > MAX_MENU_DEPTH:
        raise PagesInvalid(
            {
                "parent": gettext("menus nest %(depth)s levels deep at most")
                % {"depth": MAX_MENU_DEPTH}
            }
        )
    return parent


def menu_item_add(
    *,
    menu_id: int,
    label: dict[str, str],
    page_id: UUID | None = None,
    url: str = "",
    parent_id: int | None = None,
    position: int = 0,
    actor=None,
) -> MenuItem:
    label, page_id, url = clean_menu_item(label=label, page_id=page_id, url=url)
    with transaction.atomic():
        menu = _locked_menu(menu_id)
        if menu.items.count() >= MAX_MENU_ITEMS:
            raise PagesInvalid(
                {"items": gettext("at most %(count)s items") % {"count": MAX_MENU_ITEMS}}
            )
        parent = _check_parent(menu, parent_id, None)
        item = MenuItem.objects.create(
            menu=menu, parent=parent, position=max(0, position), label=label, page_id=page_id,
            url=url,
        )  # fmt: skip
        _menu_changed(menu, actor=actor)
    return item


def menu_item_update(
    *,
    item_id: int,
    label: dict[str, str],
    page_id: UUID | None = None,
    url: str = "",
    parent_id: int | None = None,
    position: int = 0,
    actor=None,
) -> MenuItem:
    label, page_id, url = clean_menu_item(label=label, page_id=page_id, url=url)
    with transaction.atomic():
        menu, item = _locked_menu_and_item(item_id)
        if item is None:
            raise PagesInvalid({"item": gettext("no menu item %(id)s") % {"id": item_id}})
        parent = _check_parent(menu, parent_id, item)
        values = {
            "label": label, "page_id": page_id, "url": url,
            "parent_id": parent.pk if parent else None, "position": max(0, position),
        }  # fmt: skip
        if not model_update(instance=item, fields=values, data=values):
            return item
        _menu_changed(menu, actor=actor)
    return item


def menu_item_delete(*, item_id: int, actor=None) -> None:
    """Delete an item and the items nested under it."""
    with transaction.atomic():
        menu, item = _locked_menu_and_item(item_id)
        if item is None:
            return
        item.delete()
        _menu_changed(menu, actor=actor)
