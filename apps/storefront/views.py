"""Server-rendered pages of the storefront: home, previews for staff, sitemap.xml, robots.txt.

A tenant's home page reads the site snapshot (apps.pages) and its newest posts
from the content listing (apps.index), both cached with the site, so when the
caches are warm and no page is marked as home it costs no query at all; a home
page costs the queries of one page. Pages by path are served by apps.pages.views.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from django.views.static import serve

from apps.content import selectors as content
from apps.content.kinds import POST_KIND
from apps.core.locale import LOCALE_PARAM
from apps.index import selectors as index
from apps.pages import selectors as pages
from apps.pages import site
from apps.pages.delivery import (
    ReaderLocale,
    is_previewer,
    locale_links,
    private,
    reader_locale,
    render_page,
    site_snapshot,
    site_tenant,
)
from apps.pages.selectors import PAGE_KIND
from apps.tenancy.selectors import tenant_sites

from .blog_views import render_post
from .forum_views import forum_sitemap_entries
from .page_cache import SHOP, SITE, cached_page
from .shop_views import shop_sitemap_entries

HOME_POSTS = 6
# What a preview calls the content it shows (pages are previewed as pages, by render_page).
KIND_LABELS = {POST_KIND: gettext_lazy("post")}
SITEMAP_TTL_SECONDS = 3600


def post_url(slug: str, code: str, default: str) -> str:
    """Where the blog serves a post (``/blog/<slug>/``), in locale ``code``."""
    try:
        url = reverse("blog:post", args=[slug])
    except NoReverseMatch:
        url = f"/blog/{slug}/"
    return url if code == default else f"{url}?{LOCALE_PARAM}={code}"


def blog_url(locale: ReaderLocale) -> str:
    try:
        url = reverse("blog:index")
    except NoReverseMatch:
        url = "/blog/"
    return url + locale.query


def _latest_posts(locale: ReaderLocale) -> list[dict[str, Any]]:
    """The home page's newest posts, as cards: from the content listing (index), in the
    reader's locale, cached with the site (no query when warm)."""

    def build() -> list[dict[str, Any]]:
        rows = index.latest(kind=POST_KIND, locale=locale.current, limit=HOME_POSTS)
        return [
            {
                "title": row.title,
                "excerpt": row.excerpt,
                "url": post_url(row.slug, row.content_locale, locale.default),
                "lang": row.content_locale,
                "published_at": row.published_at,
                "category": {"name": row.category_name, "slug": row.category_slug}
                if row.category_slug
                else None,
                "image": {
                    "url": row.image_url,
                    "width": row.image_width,
                    "height": row.image_height,
                    "alt": row.image_alt,
                    "srcset": row.image_srcset,
                }
                if row.image_url
                else None,
            }
            for row in rows
        ]

    return site.cached(f"latest-posts:{locale.current}:{locale.default}", build)


@require_safe
# The home page may be a page with a product grid: it shows the shop too.
@cached_page(shows=(SITE, SHOP), params=(LOCALE_PARAM,))
def home(request: HttpRequest) -> HttpResponse:
    if site_tenant(request) is None:
        raise Http404("no site here")
    locale = reader_locale(request)
    snapshot = site_snapshot(request)
    if snapshot.get("home"):
        node = pages.home_page()
        if node is not None:
            match = pages.PageMatch(node, (node,), locale.current, locale.default)
            return render_page(request, match, is_home=True)
    return render(
        request,
        "storefront/home.html",
        {
            "posts": _latest_posts(locale) if site_tenant(request).module_on("blog") else [],
            "blog_url": blog_url(locale),
            "locale_links": locale_links(locale, {code: "/" for code in locale.available}),
        },
    )


@require_safe
def preview(request: HttpRequest, node_id: UUID) -> HttpResponse:
    """Any content, draft or not, as readers would see it: for staff only (404 for anyone else)."""
    if site_tenant(request) is None or not is_previewer(request):
        raise Http404("no such content")
    node = content.node_get(node_id)
    if node is None:
        raise Http404("no such content")
    locale = reader_locale(request)
    if node.kind == PAGE_KIND:
        page = pages.page_by_id(node.pk)
        match = pages.PageMatch(page, pages.chain_of(page), locale.current, locale.default)
        return render_page(request, match, preview=True)
    if node.kind == POST_KIND:
        return render_post(request, node, preview=True)
    # Other kinds have no public page of their own: a plain rendering of the content.
    view = content.view(node, locale.current, locale.default)
    if view is None:
        raise Http404("this content has no translation yet")
    response = render(
        request,
        "storefront/preview.html",
        {
            "node": node,
            "view": view,
            "kind_label": capfirst(KIND_LABELS.get(node.kind, node.kind)),
            "locale_links": locale_links(
                locale,
                {t.locale: request.path for t in node.translations.all()},
            ),
        },
    )
    return private(response)


# -- sitemap.xml and robots.txt --------------------------------------------------------


def _absolute(request: HttpRequest, url: str) -> str:
    return f"{request.scheme}://{request.get_host()}{url}"


def _entry(request: HttpRequest, urls: dict[str, str], lastmod) -> list[dict[str, Any]]:
    """One <url> per locale, each listing all of them as alternates."""
    alternates = [{"locale": code, "url": _absolute(request, url)} for code, url in urls.items()]
    return [
        {"loc": alternate["url"], "lastmod": lastmod, "alternates": alternates}
        for alternate in alternates
    ]


def _blog_index_url() -> str | None:
    """Where the blog's index is served, or None where the blog is not mounted."""
    try:
        return reverse("blog:index")
    except NoReverseMatch:
        return None


def _sitemap_xml(request: HttpRequest, locale: ReaderLocale) -> str:
    """The sitemap's entries, leaving out the modules the tenant turned off."""
    locales = list(locale.available)
    on = site_tenant(request).module_on

    def localized(url: str, code: str) -> str:
        return url if code == locale.default else f"{url}?{LOCALE_PARAM}={code}"

    entries = _entry(request, {code: localized("/", code) for code in locales}, None)
    home_id = (site_snapshot(request) or {}).get("home")
    for node, paths in pages.published_pages(locales=locales) if on("pages") else ():
        if str(node.pk) == home_id:
            continue
        translated = {t.locale for t in node.translations.all()}
        urls = {code: localized(paths[code], code) for code in locales if code in translated}
        entries += _entry(request, urls, node.updated_at)
    posts = list(content.published(POST_KIND)) if on("blog") else []
    for node in posts:
        urls = {
            t.locale: post_url(t.slug, t.locale, locale.default)
            for t in node.translations.all()
            if t.locale in locales
        }
        entries += _entry(request, urls, node.updated_at)
    index_url = _blog_index_url() if on("blog") else None
    if index_url is not None:
        # The blog's index lists every post in every locale: it changes when any post does.
        newest = max((node.updated_at for node in posts), default=None)
        entries += _entry(request, {code: localized(index_url, code) for code in locales}, newest)
    entry = lambda urls, at: _entry(request, urls, at)  # noqa: E731
    if on("shop"):
        entries += shop_sitemap_entries(locale, localized, entry)
    if on("forum"):
        entries += forum_sitemap_entries(locale, localized, entry)
    return render_to_string("storefront/sitemap.xml", {"entries": entries})


@require_safe
def sitemap(request: HttpRequest) -> HttpResponse:
    """Published pages, posts, the blog's index, the shop and its active products, the forum
    and its public topics in every locale, with hreflang alternates (cached)."""
    if site_tenant(request) is None:
        raise Http404("no site here")
    locale = reader_locale(request)
    turned_off = ",".join(site_tenant(request).disabled_modules or [])
    xml = site.cached(
        f"sitemap:{request.scheme}:{request.get_host()}:{turned_off}",
        lambda: _sitemap_xml(request, locale),
        ttl=SITEMAP_TTL_SECONDS,
    )
    return HttpResponse(xml, content_type="application/xml; charset=utf-8")


@require_safe
def robots(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /preview/",
        "",
        f"Sitemap: {_absolute(request, '/sitemap.xml')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_safe
def media(request: HttpRequest, schema: str, path: str) -> HttpResponse:
    """Uploaded files of this tenant, where Django serves them (development, `make run`).

    In production a web server or object storage serves ``MEDIA_ROOT`` instead.
    """
    if not (settings.DEBUG or settings.SERVE_MEDIA) or schema != connection.schema_name:
        raise Http404("no such file")
    return serve(request, path, document_root=default_storage.location)


@require_safe
def platform_home(request: HttpRequest) -> HttpResponse:
    """The public domain's page: the active tenants' sites (their names and addresses are
    public anyway); signed-in operators also get each tenant's admin."""
    _, port = split_domain_port(request.get_host())
    suffix = f":{port}" if port else ""
    sites = [
        {
            "name": site.name,
            "urls": [f"{request.scheme}://{host}{suffix}/" for host in site.hosts],
            "admin_url": f"{request.scheme}://{site.hosts[0]}{suffix}/admin/",
        }
        for site in tenant_sites()
    ]
    user = getattr(request, "user", None)
    return render(
        request,
        "platform/home.html",
        {
            "sites": sites,
            "tenant_count": len(sites),
            "is_operator": bool(user and user.is_active and user.is_staff),
        },
    )
