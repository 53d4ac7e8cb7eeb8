"""The blog's public pages: listings, posts, archives, feeds and search, in the reader's locale.

Listings, feeds and search read the ``ContentListing`` projection (apps.index)
and run a fixed number of queries whatever the page size; a post page reads
the post itself through the blog's selectors. Drafts, unknown slugs and pages
past the end answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_safe

from apps.blog import selectors as blog
from apps.blog.services import KIND
from apps.content import selectors as content
from apps.content.selectors import NodeStatus
from apps.core.errors import NotFound
from apps.core.locale import LOCALE_PARAM
from apps.index import selectors as index
from apps.index.text import author_display_name, author_in_locale, reading_minutes, text_of
from apps.pages.delivery import ReaderLocale, locale_links, private, reader_locale

from .page_cache import SITE, cached_page

PER_PAGE = 10
FEED_ITEMS = 20


def not_found_as_404(view):
    """Our ``NotFound`` errors (unknown page numbers, months...) become Django's 404 page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.detail) from None

    return wrapper


def _page_url(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    return f"?{params.urlencode()}"


def _pagination(request: HttpRequest, page) -> dict[str, Any]:
    return {
        "page": page,
        "previous_url": _page_url(request, page.previous_page_number())
        if page.has_previous()
        else "",
        "next_url": _page_url(request, page.next_page_number()) if page.has_next() else "",
    }


def _respond(
    request: HttpRequest, template: str, locale: ReaderLocale, context: dict[str, Any]
) -> HttpResponse:
    """Render in the locale the URL names (``apps.storefront.middleware`` activates it)."""
    context = {"locale": locale, "lang_query": locale.query, **context}
    return render(request, template, context)


def _listing_page(
    request: HttpRequest, *, heading: str, kicker: str = "", description: str = "", **filters: Any
) -> HttpResponse:
    locale = reader_locale(request)
    page = index.listing(
        kind=KIND, locale=locale.current, page=request.GET.get("page"), per_page=PER_PAGE,
        **filters,
    )  # fmt: skip
    return _respond(
        request,
        "blog/list.html",
        locale,
        {
            "heading": heading,
            "kicker": kicker,
            "description": description,
            "entries": page.object_list,
            "months": index.months(kind=KIND, locale=locale.current),
            **_pagination(request, page),
        },
    )


@require_safe
@cached_page(shows=(SITE,), params=(LOCALE_PARAM, "page"))
@not_found_as_404
def post_index(request: HttpRequest) -> HttpResponse:
    return _listing_page(request, heading=gettext("Blog"))


@require_safe
@not_found_as_404
def tag_posts(request: HttpRequest, slug: str) -> HttpResponse:
    tag = blog.tag_by_slug(slug)
    if tag is None:
        raise Http404("no such tag")
    current = reader_locale(request).current
    return _listing_page(request, heading=tag.name_in(current), kicker=gettext("Tag"), tag=tag.slug)


@require_safe
@not_found_as_404
def category_posts(request: HttpRequest, slug: str) -> HttpResponse:
    category = blog.category_by_slug(slug)
    if category is None:
        raise Http404("no such category")
    current = reader_locale(request).current
    return _listing_page(
        request,
        heading=category.name_in(current),
        kicker=gettext("Category"),
        description=category.description_in(current),
        category=category.slug,
    )


@require_safe
@not_found_as_404
def author_posts(request: HttpRequest, author_id: int) -> HttpResponse:
    name = index.author_name(kind=KIND, author_id=author_id)
    if name is None:
        raise Http404("no posts by this author")
    return _listing_page(
        request, heading=name or gettext("Anonymous"), kicker=gettext("Author"), author_id=author_id
    )


@require_safe
@not_found_as_404
def month_posts(request: HttpRequest, year: int, month: int) -> HttpResponse:
    locale = reader_locale(request)
    page = index.listing(
        kind=KIND, locale=locale.current, year=year, month=month,
        page=request.GET.get("page"), per_page=PER_PAGE,
    )  # fmt: skip
    if page.paginator.count == 0:
        raise Http404("nothing published that month")
    return _respond(
        request,
        "blog/list.html",
        locale,
        {
            "heading": date_format(date(year, month, 1), "YEAR_MONTH_FORMAT"),
            "kicker": pgettext("blog", "Archive"),
            "entries": page.object_list,
            "months": index.months(kind=KIND, locale=locale.current),
            **_pagination(request, page),
        },
    )


@require_safe
def archive(request: HttpRequest) -> HttpResponse:
    locale = reader_locale(request)
    months = index.months(kind=KIND, locale=locale.current)
    years: dict[int, list[index.MonthCount]] = {}
    for month in months:
        years.setdefault(month.year, []).append(month)
    return _respond(request, "blog/archive.html", locale, {"years": years, "months": months})


@require_safe
@cached_page(shows=(SITE,), params=(LOCALE_PARAM,))
def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    locale = reader_locale(request)
    node = blog.published_post(slug=slug, locale=locale.current)
    if node is None:
        raise Http404("no such post")
    return render_post(request, node)


def render_post(request: HttpRequest, node, *, preview: bool = False) -> HttpResponse:
    """A post's page, in the reader's locale: the public page, and the staff's preview.

    A preview (any status) carries a banner, links its locale switcher to the
    preview itself and is neither cached nor indexed.
    """
    locale = reader_locale(request)
    view = blog.post_view(node, locale.current, locale.default)
    if view is None:
        raise Http404("no such post")
    older = newer = None
    if node.published_at is not None:
        older, newer = index.neighbours(
            kind=KIND, locale=locale.current, node_id=node.pk, published_at=node.published_at
        )
    translation = view.translation
    public_url = _post_url(request, translation.slug, view.locale, locale)
    # Every translation the site serves (hreflang links, and the header's locale switcher).
    translations = [t for t in node.translations.all() if t.locale in locale.available]
    context = {
        "node": node,
        "post": view,
        "meta_title": translation.meta_title or translation.title,
        "meta_description": translation.meta_description
        or text_of(translation.excerpt)
        or " ".join(text_of(translation.body_html).split()[:40]),
        "canonical_url": node.canonical_url or public_url,
        "alternates": [
            {"locale": other.locale, "url": _post_url(request, other.slug, other.locale, locale)}
            for other in translations
        ],
        "reading_minutes": reading_minutes(text_of(translation.body_html)),
        "author_name": author_display_name(node.author),
        # Category and tags named in the page's locale, as listings name them.
        "category": {"slug": node.category.slug, "name": node.category.name_in(locale.current)}
        if node.category
        else None,
        "tags": [
            {"slug": tag.slug, "name": tag.name_in(locale.current)} for tag in node.tags.all()
        ],
        "image": _post_image(request, node, view.locale),
        "older": older,
        "newer": newer,
        "preview": preview,
    }
    if preview:
        context.update(
            alternates=[],
            locale_links=locale_links(locale, {t.locale: request.path for t in translations}),
            public_url=public_url if node.status == NodeStatus.PUBLISHED else "",
        )
    response = _respond(request, "blog/post.html", locale, context)
    return private(response) if preview else response


def _post_image(request: HttpRequest, node, code: str) -> dict[str, Any] | None:
    """The post's image (its ``og_image``) with its alt text in ``code``, the post's language.

    An image of unknown size is left out: without width and height the page would shift.
    Its ``srcset`` (empty until its renditions are made) comes with the post, without a query.
    """
    media = node.og_image
    if media is None or not media.width or not media.height:
        return None
    url = media.file.url
    return {
        "url": url,
        "absolute_url": request.build_absolute_uri(url),
        "width": media.width,
        "height": media.height,
        "alt": media.alt(code),
        "srcset": content.og_image_srcset(node),
    }


def _post_url(request: HttpRequest, slug: str, code: str, locale: ReaderLocale) -> str:
    """The absolute URL of a post's translation in ``code`` (``?lang=`` unless it is the default)."""
    url = reverse("blog:post", args=[slug])
    if code != locale.default:
        url += f"?{LOCALE_PARAM}={code}"
    return request.build_absolute_uri(url)


@require_safe
@not_found_as_404
def search(request: HttpRequest) -> HttpResponse:
    locale = reader_locale(request)
    query = index.clean_query(request.GET.get("q"))
    context: dict[str, Any] = {
        "query": query,
        "results": None,
        "search_url": reverse("blog:search"),
    }
    if query:
        page = index.search(
            query=query, locale=locale.current, kind=KIND, page=request.GET.get("page"),
            per_page=PER_PAGE,
        )  # fmt: skip
        context.update(
            results=[
                {"hit": hit, "url": reverse("blog:post", args=[hit.slug]) + locale.query}
                for hit in page.object_list
            ],
            total=page.paginator.count,
            **_pagination(request, page),
        )
    response = _respond(request, "search/results.html", locale, context)
    response["X-Robots-Tag"] = "noindex"
    return response


# -- feeds ----------------------------------------------------------------------


@dataclass
class FeedSource:
    title: str
    description: str
    locale: ReaderLocale
    items: list


class LatestPostsFeed(Feed):
    """RSS 2.0 of the latest posts, in the reader's locale (``?lang=`` for feed readers)."""

    feed_type = Rss201rev2Feed
    item_guid_is_permalink = False
    url_name = "blog:feed_rss"

    def get_object(self, request: HttpRequest, *args, **kwargs) -> FeedSource:
        locale = reader_locale(request)
        items = index.latest(kind=KIND, locale=locale.current, limit=FEED_ITEMS)
        for item in items:
            item.url = reverse("blog:post", args=[item.slug]) + locale.query
        name = request.tenant.name
        return FeedSource(
            title=gettext("%(site)s: blog") % {"site": name},
            description=gettext("The latest posts of %(site)s") % {"site": name},
            locale=locale,
            items=items,
        )

    def get_feed(self, obj: FeedSource, request: HttpRequest):
        feed = super().get_feed(obj, request)
        feed.feed["language"] = obj.locale.current
        return feed

    def title(self, obj: FeedSource) -> str:
        return obj.title

    def description(self, obj: FeedSource) -> str:
        return obj.description

    def subtitle(self, obj: FeedSource) -> str:
        return obj.description

    def link(self, obj: FeedSource) -> str:
        return reverse("blog:index") + obj.locale.query

    def feed_url(self, obj: FeedSource) -> str:
        return reverse(self.url_name) + obj.locale.query

    def items(self, obj: FeedSource) -> list:
        return obj.items

    def item_title(self, item) -> str:
        return item.title

    def item_description(self, item) -> str:
        return item.excerpt

    def item_link(self, item) -> str:
        return item.url

    def item_guid(self, item) -> str:
        return f"urn:uuid:{item.node_id}"

    def item_pubdate(self, item):
        return item.published_at

    def item_author_name(self, item) -> str | None:
        return author_in_locale(item.author_name) or None

    def item_categories(self, item) -> list[str]:
        """The category, then the tags, each name once (a tag may share the category's name)."""
        names: dict[str, str] = {}
        for name in (item.category_name, *item.tag_names):
            if name:
                names.setdefault(name.casefold(), name)
        return list(names.values())


class LatestPostsAtomFeed(LatestPostsFeed):
    """The same feed in Atom 1.0."""

    feed_type = Atom1Feed
    url_name = "blog:feed_atom"

    def item_updateddate(self, item):
        return item.published_at
