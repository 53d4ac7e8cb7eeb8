"""Reads of pages that other modules (storefront, api) may use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from apps.content import selectors as content
from apps.content.models import Media, Node, NodeStatus
from apps.core.locale import LOCALE_PARAM

from . import site
from .models import PAGE_KIND, Menu, MenuItem, PageLayout

MAX_DEPTH = 8
SITE_FORMAT = 2


# -- the page tree -------------------------------------------------------------


def slug_in(node: Node, locale: str, default: str) -> str:
    """The node's slug in ``locale`` (else in ``default``, else any): paths use it per level."""
    translation = content.pick_translation(node, locale, default)
    return translation.slug if translation else ""


def title_in(node: Node, locale: str, default: str) -> str:
    translation = content.pick_translation(node, locale, default)
    return translation.title if translation else ""


def path_of(node: Node, locale: str, default: str, tree: dict[UUID, Node]) -> str | None:
    """``/about/team/`` in ``locale``; None when an ancestor is not in ``tree``."""
    slugs: list[str] = []
    current: Node | None = node
    for _ in range(MAX_DEPTH):
        slugs.append(slug_in(current, locale, default))
        if current.parent_id is None:
            return "/" + "/".join(reversed(slugs)) + "/"
        current = tree.get(current.parent_id)
        if current is None:
            return None
    return None


def layout_of(node: Node) -> PageLayout | None:
    """The layout loaded with the node (``select_related("page_layout")``), or None."""
    try:
        return node.page_layout
    except ObjectDoesNotExist:
        return None


def page_nodes() -> QuerySet[Node]:
    """Pages with their translations, tags and layout, in a fixed number of queries."""
    return content.nodes(kind=PAGE_KIND).select_related("page_layout")


@dataclass(frozen=True)
class PageMatch:
    """A page found by its path: the chain of pages from the root, and the locale the path spells."""

    node: Node
    chain: tuple[Node, ...]
    locale: str
    default_locale: str

    @property
    def layout(self) -> PageLayout | None:
        return layout_of(self.node)

    @property
    def live(self) -> bool:
        return all(page.status == NodeStatus.PUBLISHED for page in self.chain)

    def path(self, locale: str) -> str:
        tree = {page.pk: page for page in self.chain}
        return path_of(self.node, locale, self.default_locale, tree) or "/"


def _ordered(nodes: Iterable[Node]) -> list[Node]:
    return sorted(nodes, key=lambda node: (node.position, node.created_at))


def page_by_path(
    path: str, *, locales: list[str], preferred: str, include_drafts: bool = False
) -> PageMatch | None:
    """The page at ``path`` (``about/team``), its slugs read in ``preferred`` first, then the others.

    Drafts (and pages under a draft) are found only with ``include_drafts``.
    One query for the pages of every level (plus their translations and tags).
    """
    segments = [segment for segment in path.strip("/").lower().split("/") if segment]
    if not segments or len(segments) > MAX_DEPTH:
        return None
    default = locales[0] if locales else preferred
    matching = content.nodes(kind=PAGE_KIND).filter(translations__slug__in=segments).values("pk")
    candidates = _ordered(page_nodes().filter(pk__in=matching))
    for locale in [preferred, *[code for code in locales if code != preferred]]:
        chain: list[Node] = []
        parent_id = None
        for segment in segments:
            found = next(
                (
                    node
                    for node in candidates
                    if node.parent_id == parent_id and slug_in(node, locale, default) == segment
                ),
                None,
            )
            if found is None:
                break
            chain.append(found)
            parent_id = found.pk
        else:
            match = PageMatch(chain[-1], tuple(chain), locale, default)
            if include_drafts or match.live:
                return match
    return None


def page_by_id(node_id: UUID | str) -> Node | None:
    node = content.node_get(node_id)
    if node is None or node.kind != PAGE_KIND:
        return None
    return page_nodes().filter(pk=node.pk).first()


def chain_of(node: Node) -> tuple[Node, ...]:
    """The node and its ancestors, root first (one query per level)."""
    chain = [node]
    while chain[0].parent_id is not None and len(chain) < MAX_DEPTH:
        parent = page_nodes().filter(pk=chain[0].parent_id).first()
        if parent is None:
            break
        chain.insert(0, parent)
    return tuple(chain)


def home_page() -> Node | None:
    """The published page marked as home, with its layout, translations and tags."""
    return page_nodes().filter(status=NodeStatus.PUBLISHED, page_layout__is_home=True).first()


def children_of(node: Node, *, include_drafts: bool = False) -> list[Node]:
    queryset = page_nodes().filter(parent_id=node.pk)
    if not include_drafts:
        queryset = queryset.filter(status=NodeStatus.PUBLISHED)
    return _ordered(queryset)


def published_pages(*, locales: list[str]) -> list[tuple[Node, dict[str, str]]]:
    """Every page whose whole chain is published, with its path per locale (for sitemaps)."""
    default = locales[0]
    tree = {node.pk: node for node in content.published(PAGE_KIND)}
    found = []
    for node in _ordered(tree.values()):
        paths = {locale: path_of(node, locale, default, tree) for locale in locales}
        if all(paths.values()):
            found.append((node, paths))
    return found


def page_paths(*, locales: list[str]) -> dict[str, dict[str, str]]:
    """``{page id: {locale: path}}`` of every published page (as ``published_pages``), cached
    with the site: no query when warm, three when not."""
    return site.cached(
        f"page-paths:{'-'.join(locales)}",
        lambda: {str(node.pk): paths for node, paths in published_pages(locales=locales)},
    )


def layouts() -> QuerySet[PageLayout]:
    return PageLayout.objects.select_related("node")


def media_by_id(ids: Iterable[str]) -> dict[str, Media]:
    wanted = {str(media_id) for media_id in ids}
    if not wanted:
        return {}
    found = content.media_list(with_renditions=True).filter(pk__in=wanted)
    return {str(media.pk): media for media in found}


# -- menus -----------------------------------------------------------------------


def menus() -> QuerySet[Menu]:
    return Menu.objects.prefetch_related("items")


def _live_pages_with_ancestors(ids: set[UUID]) -> dict[UUID, Node]:
    """The published pages among ``ids`` and their published ancestors (one round per level)."""
    found: dict[UUID, Node] = {}
    wanted = set(ids)
    for _ in range(MAX_DEPTH + 1):
        wanted -= set(found)
        if not wanted:
            break
        batch = list(content.published(PAGE_KIND).filter(pk__in=wanted))
        found.update((node.pk, node) for node in batch)
        wanted = {node.parent_id for node in batch if node.parent_id}
    return found


def _menu_tree(
    items: list[MenuItem], pages: dict[UUID, Node], locales: list[str]
) -> list[dict[str, Any]]:
    default = locales[0]
    children: dict[int | None, list[MenuItem]] = {}
    for item in sorted(items, key=lambda item: (item.position, item.pk)):
        children.setdefault(item.parent_id, []).append(item)

    def build(parent_id: int | None, depth: int) -> list[dict[str, Any]]:
        entries = []
        for item in children.get(parent_id, []) if depth < MAX_DEPTH else []:
            label = {locale: text for locale, text in (item.label or {}).items() if text}
            if item.page_id:
                node = pages.get(item.page_id)
                urls = {
                    locale: path_of(node, locale, default, pages) if node else None
                    for locale in locales
                }
                if node is None or not all(urls.values()):
                    continue  # a page that is not (or no longer) published: hidden
                titles = {locale: title_in(node, locale, default) for locale in locales}
                label = {**titles, **label}
            elif item.url:
                urls = {"*": item.url}
            else:
                continue
            if not label:
                continue
            entries.append({"label": label, "url": urls, "children": build(item.pk, depth + 1)})
        return entries

    return build(None, 0)


def build_site(*, locales: list[str]) -> dict[str, Any]:
    """The site snapshot, from the database (a bounded number of queries)."""
    all_menus = list(menus())
    page_ids = {item.page_id for menu in all_menus for item in menu.items.all() if item.page_id}
    pages = _live_pages_with_ancestors(page_ids)
    home = (
        PageLayout.objects.filter(is_home=True, node__status=NodeStatus.PUBLISHED)
        .values_list("node_id", flat=True)
        .first()
    )
    return {
        "format": SITE_FORMAT,
        "locales": locales,
        "menus": {
            menu.slug: _menu_tree(list(menu.items.all()), pages, locales) for menu in all_menus
        },
        "home": str(home) if home else None,
    }


def site_snapshot(*, locales: list[str]) -> dict[str, Any]:
    """The cached site snapshot (no query when warm)."""
    return site.cached(
        f"snapshot:{SITE_FORMAT}:{'-'.join(locales)}", lambda: build_site(locales=locales)
    )


# -- localizing the snapshot --------------------------------------------------------


def localized(values: dict[str, Any], locale: str, default: str) -> Any:
    """The value for ``locale``, else ``default``, else ``*``, else any."""
    for key in (locale, default, "*"):
        if values.get(key):
            return values[key]
    return next(iter(values.values()), None)


@dataclass(frozen=True)
class MenuLink:
    label: str
    url: str
    children: list[MenuLink] = field(default_factory=list)


def menu_links(snapshot: dict[str, Any], slug: str, *, locale: str, default: str) -> list[MenuLink]:
    """A menu's links in ``locale``; a link within the site keeps a non-default locale
    (``?lang=``) unless its path names that locale already (a page path spelled in it)."""

    def url_of(urls: dict[str, Any]) -> str:
        url = localized(urls, locale, default) or "/"
        named = locale in urls and urls.get(locale) != urls.get(default)
        if locale == default or named or not _within_site(url) or "lang=" in url:
            return url
        return f"{url}{'&' if '?' in url else '?'}{LOCALE_PARAM}={locale}"

    def links(entries: list[dict[str, Any]]) -> list[MenuLink]:
        return [
            MenuLink(
                label=localized(entry["label"], locale, default) or "",
                url=url_of(entry["url"]),
                children=links(entry.get("children", [])),
            )
            for entry in entries
        ]

    return links(snapshot.get("menus", {}).get(slug, []))


def _within_site(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")
