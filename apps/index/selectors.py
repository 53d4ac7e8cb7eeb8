"""Reads of the read side: listings, month archives and full-text search over ``ContentListing``;
the shop's product listing and product search over ``ProductListing``; the forum's topic
listings and search over ``ForumTopicListing`` and its categories' counters.

Every function here runs a fixed number of queries whatever the page size
(``listing``: a count and a page; ``search``: the same; ``months``: one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import (
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, TruncMonth
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from apps.commerce.money import (
    AMOUNT_DIGITS,
    AMOUNT_PLACES,
    MoneyError,
    normalize_currency,
    parse_amount,
)
from apps.index.health import searching

from .errors import ListingQueryInvalid, PageNotFound
from .models import ContentListing, ForumCategoryStats, ForumTopicListing, ProductListing
from .product_listing import LISTING_CACHE, option_token
from .text import ALL_SEARCH_CONFIGS, HIGHLIGHT_START, HIGHLIGHT_STOP

T = TypeVar("T")
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
MAX_QUERY_LENGTH = 200
# Columns a listing card needs (the body text and the vector stay in the database).
CARD_FIELDS = (
    "id", "node_id", "kind", "locale", "content_locale", "title", "slug", "excerpt", "author_id",
    "author_name", "category_slug", "category_name", "tag_slugs", "tag_names", "image_url",
    "image_width", "image_height", "image_alt", "image_srcset", "published_at", "reading_minutes",
)  # fmt: skip


def _paginate(rows: QuerySet | list, page: int | str | None, per_page: int) -> Page:
    per_page = max(1, min(int(per_page or DEFAULT_PER_PAGE), MAX_PER_PAGE))
    paginator = Paginator(rows, per_page)
    try:
        result = paginator.page(1 if page in (None, "") else page)
    except (EmptyPage, PageNotAnInteger):
        raise PageNotFound(f"no page {page}") from None
    result.object_list = list(result.object_list)
    return result


def _month_range(year: int, month: int | None) -> tuple[datetime, datetime]:
    if not 1 <= year <= 9998 or (month is not None and not 1 <= month <= 12):
        raise PageNotFound("no such month")
    start = date(year, month or 1, 1)
    end = date(year + 1, 1, 1) if month is None else date(year + (month == 12), month % 12 + 1, 1)
    aware = timezone.get_current_timezone()
    return (
        datetime(start.year, start.month, 1, tzinfo=aware),
        datetime(end.year, end.month, 1, tzinfo=aware),
    )


def listing_rows(
    *,
    kind: str,
    locale: str,
    category: str | None = None,
    tag: str | None = None,
    author_id: int | None = None,
    year: int | None = None,
    month: int | None = None,
) -> QuerySet[ContentListing]:
    """Published content of ``kind`` in ``locale``, newest first, filtered (not paginated)."""
    rows = ContentListing.objects.filter(kind=kind, locale=locale)
    if category:
        rows = rows.filter(category_slug=category)
    if tag:
        rows = rows.filter(tag_slugs__contains=[tag])
    if author_id is not None:
        rows = rows.filter(author_id=author_id)
    if year is not None:
        start, end = _month_range(year, month)
        rows = rows.filter(published_at__gte=start, published_at__lt=end)
    return rows.only(*CARD_FIELDS).order_by("-published_at", "node_id")


def listing(
    *,
    kind: str,
    locale: str,
    category: str | None = None,
    tag: str | None = None,
    author_id: int | None = None,
    year: int | None = None,
    month: int | None = None,
    page: int | str | None = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page:
    """One page of ``listing_rows`` (two queries); ``PageNotFound`` past the last page."""
    rows = listing_rows(
        kind=kind, locale=locale, category=category, tag=tag, author_id=author_id,
        year=year, month=month,
    )  # fmt: skip
    return _paginate(rows, page, per_page)


def latest(*, kind: str, locale: str, limit: int = 20) -> list[ContentListing]:
    """The newest ``limit`` items (for feeds): one query."""
    return list(listing_rows(kind=kind, locale=locale)[: max(1, min(limit, MAX_PER_PAGE))])


@dataclass(frozen=True)
class MonthCount:
    year: int
    month: int
    count: int

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


def months(*, kind: str, locale: str) -> list[MonthCount]:
    """Months that have published content of ``kind``, newest first, with how much."""
    rows = (
        ContentListing.objects.filter(kind=kind, locale=locale)
        .annotate(month=TruncMonth("published_at"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("-month")
    )
    return [MonthCount(row["month"].year, row["month"].month, row["count"]) for row in rows]


def neighbours(
    *, kind: str, locale: str, node_id: UUID, published_at: datetime
) -> tuple[ContentListing | None, ContentListing | None]:
    """The items just older and just newer than the given one, in listing order (two queries)."""
    rows = ContentListing.objects.filter(kind=kind, locale=locale).only(*CARD_FIELDS)
    older = (
        rows.filter(
            Q(published_at__lt=published_at) | Q(published_at=published_at, node_id__gt=node_id)
        )
        .order_by("-published_at", "node_id")
        .first()
    )
    newer = (
        rows.filter(
            Q(published_at__gt=published_at) | Q(published_at=published_at, node_id__lt=node_id)
        )
        .order_by("published_at", "-node_id")
        .first()
    )
    return older, newer


def author_name(*, kind: str, author_id: int) -> str | None:
    """The name an author's published content shows, or None if they have none."""
    return (
        ContentListing.objects.filter(kind=kind, author_id=author_id)
        .order_by("-published_at")
        .values_list("author_name", flat=True)
        .first()
    )


# -- search -------------------------------------------------------------------


_MARKED = re.compile(f"{HIGHLIGHT_START}([^{HIGHLIGHT_START}{HIGHLIGHT_STOP}]*){HIGHLIGHT_STOP}")


def highlighted(text: str) -> SafeString:
    """``text`` from ts_headline, escaped, with each marked match in a <mark> element.

    Only well-formed marker pairs become elements; a stray marker is dropped.
    """
    marked = _MARKED.sub(r"<mark>\1</mark>", str(escape(text or "")))
    return mark_safe(  # noqa: S308 -- escaped above; only our own markers become tags
        marked.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, "")
    )


@dataclass(frozen=True)
class SearchHit:
    node_id: UUID
    kind: str
    locale: str
    content_locale: str
    slug: str
    title: str
    title_html: SafeString
    snippet_html: SafeString
    excerpt: str
    author_name: str
    category_slug: str
    category_name: str
    published_at: datetime
    reading_minutes: int
    rank: float


def _hit(row: ContentListing) -> SearchHit:
    return SearchHit(
        node_id=row.node_id,
        kind=row.kind,
        locale=row.locale,
        content_locale=row.content_locale,
        slug=row.slug,
        title=row.title,
        title_html=highlighted(row.title_marked),
        snippet_html=highlighted(row.snippet),
        excerpt=row.excerpt,
        author_name=row.author_name,
        category_slug=row.category_slug,
        category_name=row.category_name,
        published_at=row.published_at,
        reading_minutes=row.reading_minutes,
        rank=row.rank,
    )


# What a visitor types is read as web-search syntax, rebuilt from its terms: words,
# "quoted phrases", a leading "-" that leaves a word out, "or". Operators without a
# word, brackets and control characters (NUL, which PostgreSQL text cannot hold) are
# dropped and the terms are bounded, so websearch_to_tsquery never gets a query it
# cannot parse ("tsquery stack too small" after 33 dashes).
MAX_QUERY_TERMS = 16
MAX_TERM_LENGTH = 64
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"()\-][^\s"()]*))')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_query(query: str | None) -> str:
    """The search terms of ``query``, safe to hand to ``websearch_to_tsquery``."""
    text = _CONTROL.sub(" ", (query or "")[: 4 * MAX_QUERY_LENGTH])
    terms: list[str] = []
    budget = MAX_QUERY_TERMS
    for negated, phrase, word in _TERM.findall(text):
        if budget <= 0:
            break
        if word:
            terms.append(negated + word[:MAX_TERM_LENGTH])
            budget -= 1
            continue
        words = [w[:MAX_TERM_LENGTH] for w in phrase.split()][:budget]
        if words:
            terms.append(f'{negated}"{" ".join(words)}"')
            budget -= len(words)
    return " ".join(terms)[:MAX_QUERY_LENGTH]


@searching
def search(
    *,
    query: str,
    locale: str,
    page: int | str | None = 1,
    kind: str | None = None,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page:
    """Content in ``locale`` matching ``query`` (web-search syntax), best first (two queries).

    Each row is matched with the text search configuration of its own
    language; ``object_list`` holds ``SearchHit``s with escaped, highlighted
    title and snippet.
    """
    text = clean_query(query)
    if not text:
        return _paginate([], 1, per_page)
    # One branch per configuration keeps the GIN index usable (a per-row config would not).
    match = Q()
    for config in ALL_SEARCH_CONFIGS:
        match |= Q(
            search_config=config,
            search_vector=SearchQuery(text, config=config, search_type="websearch"),
        )
    own_language = SearchQuery(text, config=F("search_config"), search_type="websearch")
    marks = {"start_sel": HIGHLIGHT_START, "stop_sel": HIGHLIGHT_STOP}
    rows = ContentListing.objects.filter(match, locale=locale)
    if kind:
        rows = rows.filter(kind=kind)
    rows = (
        rows.annotate(
            rank=SearchRank(F("search_vector"), own_language, normalization=Value(1)),
            title_marked=SearchHeadline(
                "title", own_language, config=F("search_config"), highlight_all=True, **marks
            ),
            snippet=SearchHeadline(
                Coalesce(NullIf("body_text", Value("")), "excerpt"),
                own_language,
                config=F("search_config"),
                max_words=30,
                min_words=12,
                max_fragments=2,
                fragment_delimiter='" … "',
                **marks,
            ),
        )
        .only(*CARD_FIELDS)
        .order_by("-rank", "-published_at", "node_id")
    )
    result = _paginate(rows, page, per_page)
    result.object_list = [_hit(row) for row in result.object_list]
    return result


# -- the product listing ------------------------------------------------------------------

# Columns a product card needs (the description and the vector stay in the database).
PRODUCT_CARD_FIELDS = (
    "id", "product_id", "locale", "content_locale", "title", "handle", "vendor", "price_min",
    "price_max", "on_sale", "in_stock", "total_available", "variant_count", "option_names",
    "image_id", "created_at",
)  # fmt: skip
PRODUCT_SORTS = ("newest", "price_asc", "price_desc", "title", "relevance")
MAX_OPTION_FILTERS = 10


def _currency(currency: str) -> str:
    try:
        return normalize_currency(currency)
    except MoneyError as error:
        raise ListingQueryInvalid(str(error)) from None


def _amount(value: object, currency: str) -> Decimal:
    try:
        amount = parse_amount(value, currency)
    except MoneyError as error:
        raise ListingQueryInvalid(str(error)) from None
    if amount < 0:
        raise ListingQueryInvalid(_("a price cannot be negative"))
    return amount


def _option_tokens(options: Mapping[str, str | Sequence[str]]) -> list[list[str]]:
    if len(options) > MAX_OPTION_FILTERS:
        raise ListingQueryInvalid(_("too many options"))
    chosen = []
    for name, values in options.items():
        values = [values] if isinstance(values, str) else list(values)[:MAX_OPTION_FILTERS]
        tokens = [option_token(str(name), str(value)) for value in values]
        if any(_CONTROL.search(token) for token in tokens):
            raise ListingQueryInvalid(_("an option value cannot hold control characters"))
        chosen.append(tokens)
    return chosen


def _text_match(text: str) -> Q:
    # One branch per configuration keeps the GIN index usable (a per-row config would not).
    match = Q()
    for config in ALL_SEARCH_CONFIGS:
        match |= Q(
            search_config=config,
            search_vector=SearchQuery(text, config=config, search_type="websearch"),
        )
    return match


def product_listing_rows(
    *,
    locale: str,
    collection: str | None = None,
    category: str | None = None,
    currency: str | None = None,
    price_min: object = None,
    price_max: object = None,
    options: Mapping[str, str | Sequence[str]] | None = None,
    in_stock: bool | None = None,
    query: str | None = None,
    sort: str | None = None,
) -> QuerySet[ProductListing]:
    """Active products in ``locale``, filtered and sorted (not paginated).

    ``collection`` and ``category`` are handles (the category itself, not its subcategories).
    With ``currency`` only products priced in it are listed; ``price_min``/``price_max``
    bound the product's lowest price there ("from" price), which is also what the price sorts
    use. ``options`` maps an option name to a value or to values any of which will do; every
    option named must match. ``query`` is searched in web-search syntax with each row's own
    language. ``sort``: newest (the default), price_asc, price_desc, title, or relevance (the
    default with a query). Bad values raise ``ListingQueryInvalid``.
    """
    text = clean_query(query) if query else ""
    sort = sort or ("relevance" if text else "newest")
    if sort not in PRODUCT_SORTS or (sort == "relevance" and not text):
        raise ListingQueryInvalid(_("unknown sort '%(sort)s'") % {"sort": str(sort)[:40]})
    if currency is None and (
        price_min is not None or price_max is not None or sort.startswith("price")
    ):
        raise ListingQueryInvalid(_("prices are filtered and sorted in a currency: give one"))
    if collection and _CONTROL.search(str(collection)):
        raise ListingQueryInvalid(_("that is not a collection's handle"))
    if category and _CONTROL.search(str(category)):
        raise ListingQueryInvalid(_("that is not a category's handle"))
    rows = ProductListing.objects.filter(locale=locale)
    if collection:
        rows = rows.filter(collection_handles__contains=[collection])
    if category:
        rows = rows.filter(category_handles__contains=[category])
    if in_stock is not None:
        rows = rows.filter(in_stock=in_stock)
    for tokens in _option_tokens(options or {}):
        rows = rows.filter(option_values__overlap=tokens)
    if currency is not None:
        currency = _currency(currency)
        price = Cast(
            KT(f"price_min__{currency}"),
            DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES),
        )
        rows = rows.filter(price_min__has_key=currency).annotate(from_price=price)
        if price_min is not None:
            rows = rows.filter(from_price__gte=_amount(price_min, currency))
        if price_max is not None:
            rows = rows.filter(from_price__lte=_amount(price_max, currency))
    if text:
        own_language = SearchQuery(text, config=F("search_config"), search_type="websearch")
        rows = rows.filter(_text_match(text)).annotate(
            rank=SearchRank(F("search_vector"), own_language, normalization=Value(1))
        )
    order = {
        "newest": ("-created_at", "product_id"),
        "price_asc": ("from_price", "-created_at", "product_id"),
        "price_desc": ("-from_price", "-created_at", "product_id"),
        "title": ("title", "product_id"),
        "relevance": ("-rank", "-created_at", "product_id"),
    }[sort]
    return rows.only(*PRODUCT_CARD_FIELDS).order_by(*order)


def product_listing(
    *,
    locale: str,
    page: int | str | None = 1,
    per_page: int = DEFAULT_PER_PAGE,
    **filters,
) -> Page:
    """One page of ``product_listing_rows`` (two queries); ``PageNotFound`` past the last page."""
    return _paginate(product_listing_rows(locale=locale, **filters), page, per_page)


def product_listing_cached(name: str, build: Callable[[], T]) -> T:
    """``build()`` cached until the product listing next changes (for what is derived from the
    catalog as the listing shows it: the shop's filter choices)."""
    return LISTING_CACHE.cached(name, build)


# -- the forum ----------------------------------------------------------------------------
# Reads of ``ForumTopicListing`` (public topics with their counters) and ``ForumCategoryStats``
# for the storefront's forum pages; each is one query, or two for a page (a count and the rows).

# Columns a topic's line in a listing needs (the texts and the vector stay in the database).
FORUM_CARD_FIELDS = (
    "id", "topic_id", "category_id", "title", "slug", "excerpt", "author_id", "author_name",
    "author_handle", "status", "pinned", "locked", "solution_reply_id", "tag_slugs", "tag_names",
    "reply_count", "last_activity_at", "last_poster_id", "last_poster_name", "last_reply_id",
    "created_at", "locale",
)  # fmt: skip
FORUM_ORDER = ("-last_activity_at", "-topic_id")


def forum_topic_rows(
    *,
    category_ids: Sequence[int] | None = None,
    tag: str | None = None,
    author_id: int | None = None,
    pinned_first: bool = False,
) -> QuerySet[ForumTopicListing]:
    """Public topics, most recently active first (pinned ones first with ``pinned_first``),
    in ``category_ids``, with ``tag`` (a slug) or by ``author_id`` (not paginated)."""
    rows = ForumTopicListing.objects.all()
    if category_ids is not None:
        rows = rows.filter(category_id__in=list(category_ids))
    if tag:
        rows = rows.filter(tag_slugs__contains=[tag])
    if author_id is not None:
        rows = rows.filter(author_id=author_id)
    order = ("-pinned", *FORUM_ORDER) if pinned_first else FORUM_ORDER
    return rows.only(*FORUM_CARD_FIELDS).order_by(*order)


def forum_topics(
    *, page: int | str | None = 1, per_page: int = DEFAULT_PER_PAGE, **filters
) -> Page:
    """One page of ``forum_topic_rows`` (two queries); ``PageNotFound`` past the last page."""
    return _paginate(forum_topic_rows(**filters), page, per_page)


def forum_latest(*, limit: int = 10) -> list[ForumTopicListing]:
    """The ``limit`` most recently active public topics (one query)."""
    return list(forum_topic_rows()[: max(1, min(limit, MAX_PER_PAGE))])


def forum_newest(*, category_id: int, limit: int = 20) -> list[ForumTopicListing]:
    """The newest public topics of a category, newest first (for its feeds; one query)."""
    rows = ForumTopicListing.objects.filter(category_id=category_id).only(*FORUM_CARD_FIELDS)
    return list(rows.order_by("-created_at", "-topic_id")[: max(1, min(limit, MAX_PER_PAGE))])


def forum_topics_by_ids(topic_ids: Sequence[int]) -> dict[int, ForumTopicListing]:
    """The listing's rows of ``topic_ids`` that are public, by topic id (one query)."""
    rows = ForumTopicListing.objects.filter(topic_id__in=list(topic_ids)).only(*FORUM_CARD_FIELDS)
    return {row.topic_id: row for row in rows}


def forum_category_stats(category_ids: Sequence[int]) -> dict[int, ForumCategoryStats]:
    """The counters of ``category_ids`` by category id (one query; a category without a row
    yet has none)."""
    rows = ForumCategoryStats.objects.filter(category_id__in=list(category_ids))
    return {row.category_id: row for row in rows}


@dataclass(frozen=True)
class ForumSearchHit:
    topic_id: int
    category_id: int
    slug: str
    title: str
    title_html: SafeString
    snippet_html: SafeString
    author_name: str
    author_handle: str
    status: str
    locked: bool
    solved: bool
    reply_count: int
    last_activity_at: datetime
    locale: str
    rank: float


def _forum_hit(row: ForumTopicListing) -> ForumSearchHit:
    return ForumSearchHit(
        topic_id=row.topic_id,
        category_id=row.category_id,
        slug=row.slug,
        title=row.title,
        title_html=highlighted(row.title_marked),
        snippet_html=highlighted(row.snippet),
        author_name=row.author_name,
        author_handle=row.author_handle,
        status=row.status,
        locked=row.locked,
        solved=row.solution_reply_id is not None,
        reply_count=row.reply_count,
        last_activity_at=row.last_activity_at,
        locale=row.locale,
        rank=row.rank,
    )


@searching
def forum_search(
    *, query: str, page: int | str | None = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page:
    """Public topics matching ``query`` (web-search syntax) in their title, body or replies,
    best first (two queries). Each topic is matched with the text search configuration of the
    language it is written in; ``object_list`` holds ``ForumSearchHit``s with escaped,
    highlighted title and snippet."""
    text = clean_query(query)
    if not text:
        return _paginate([], 1, per_page)
    own_language = SearchQuery(text, config=F("search_config"), search_type="websearch")
    marks = {"start_sel": HIGHLIGHT_START, "stop_sel": HIGHLIGHT_STOP}
    rows = (
        ForumTopicListing.objects.filter(_text_match(text))
        .annotate(
            rank=SearchRank(F("search_vector"), own_language, normalization=Value(1)),
            title_marked=SearchHeadline(
                "title", own_language, config=F("search_config"), highlight_all=True, **marks
            ),
            snippet=SearchHeadline(
                # The body, then the replies: a topic found by an answer shows that answer.
                Concat("body_text", Value(" "), "replies_text", output_field=TextField()),
                own_language,
                config=F("search_config"),
                max_words=30,
                min_words=12,
                max_fragments=2,
                fragment_delimiter='" … "',
                **marks,
            ),
        )
        .only(*FORUM_CARD_FIELDS)
        .order_by("-rank", *FORUM_ORDER)
    )
    result = _paginate(rows, page, per_page)
    result.object_list = [_forum_hit(row) for row in result.object_list]
    return result


def forum_sitemap_rows(*, limit: int = 10_000) -> list[tuple[int, str, datetime]]:
    """``(topic_id, slug, last_activity_at)`` of the most recently active public topics, for
    sitemap.xml (one query)."""
    rows = ForumTopicListing.objects.order_by(*FORUM_ORDER).values_list(
        "topic_id", "slug", "last_activity_at"
    )
    return list(rows[:limit])


# -- the forum's counters, beside the forum's own rows (the API) -------------------------------


def with_forum_topic_counters(topics: QuerySet) -> QuerySet:
    """``topics`` (the forum's ``Topic`` rows) with their counters from the forum's listing:
    ``reply_count`` and ``last_activity_at``, None for a topic the listing does not hold (one
    that is not public). In the same query: a subquery on the listing's unique key per row."""
    row = ForumTopicListing.objects.filter(topic_id=OuterRef("pk"))
    return topics.annotate(
        reply_count=Subquery(row.values("reply_count")[:1]),
        last_activity_at=Subquery(row.values("last_activity_at")[:1]),
    )
