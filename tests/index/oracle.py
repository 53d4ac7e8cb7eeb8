"""An oracle of the content listing that owes nothing to ``apps.index``.

The handler, ``rebuild_projections`` and ``check_projections`` all build rows
with ``content_listing.expected_rows``, so a mistake there passes all three. The
oracle works the rows out again from content's tables with plain SQL and a text
extraction of its own (the standard library's ``html.parser``), following what a
listing row is meant to hold:

- one row per published node (with a publication date) and locale the tenant serves;
- each row shows the node's translation in that locale, else in the tenant's
  default locale, else its translation with the smallest locale code;
- the body as plain text (block elements apart), the editor's excerpt as plain
  text or else the body's first 40 words (with an ellipsis if there are more),
  reading time at 200 words a minute (at least one);
- author, category and tags (by slug) as they are now, the category's and the tags' names
  in the row's locale (its own name there, else the name, which is the default locale's);
  the node's version;
- the node's image, and for ``srcset`` its renditions narrower than it, then itself;
- a search vector weighting title, excerpt and body A, B and C in the text
  search configuration of the translation's language.

It never imports ``apps.index``.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection

FIELDS = (
    "kind", "content_locale", "title", "slug", "excerpt", "body_text", "author_id", "author_name",
    "category_id", "category_slug", "category_name", "tag_slugs", "tag_names", "image_id",
    "image_url", "image_width", "image_height", "image_alt", "image_srcset", "published_at",
    "reading_minutes", "search_config", "source_version",
)  # fmt: skip

LANGUAGE_CONFIGS = {"en": "english", "de": "german", "fr": "french", "ru": "russian"}
EXCERPT_WORDS = 40
WORDS_PER_MINUTE = 200
BODY_TEXT_LIMIT = 100_000

# Elements that separate what is around them ("<p>one</p><p>two</p>" reads "one two").
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div",
        "dl", "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
_UNREAD = frozenset({"script", "style"})

Key = tuple[UUID, str]


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.unread = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _UNREAD:
            self.unread += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNREAD:
            self.unread = max(0, self.unread - 1)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.unread:
            self.parts.append(data)


def plain(markup: str) -> str:
    """What a reader sees of ``markup``, whitespace collapsed."""
    collector = _TextCollector()
    collector.feed(markup or "")
    collector.close()
    return " ".join("".join(collector.parts).split())


def _excerpt(editors: str, body_html: str) -> str:
    given = plain(editors)
    if given:
        return given
    words = plain(body_html).split()
    head = " ".join(words[:EXCERPT_WORDS])
    return head + "\u2026" if len(words) > EXCERPT_WORDS else head


def _fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _served_locales(schema: str) -> tuple[str, set[str]]:
    ((default, enabled),) = _fetch(
        "SELECT default_locale, enabled_locales FROM public.tenancy_tenant WHERE schema_name = %s",
        [schema],
    )
    if isinstance(enabled, str):
        enabled = json.loads(enabled)
    return default, {default, *(enabled or [])}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _name_in(locale: str, name: str | None, translations: dict | None) -> str:
    own = ((translations or {}).get(locale) or {}).get("name")
    return own or name or ""


def oracle_rows(schema: str) -> dict[Key, dict[str, Any]]:
    """The rows the listing of ``schema`` should hold, by (node id, locale)."""
    default, served = _served_locales(schema)
    s = connection.ops.quote_name(schema)
    nodes = _fetch(
        f"""
        SELECT n.id, n.kind, n.version, n.published_at, n.author_id,
               u.username, u.first_name, u.last_name, c.id, c.slug, c.name,
               c.translations, m.id, m.file, m.width, m.height, m.alt_text
        FROM {s}.content_node n
        LEFT JOIN {s}.auth_user u ON u.id = n.author_id
        LEFT JOIN {s}.content_category c ON c.id = n.category_id
        LEFT JOIN {s}.content_media m ON m.id = n.og_image_id
        WHERE n.status = 'published' AND n.published_at IS NOT NULL
        """  # noqa: S608 -- the schema name is quoted, the rest constant
    )
    tags: dict[UUID, list[tuple[str, str, dict]]] = {}
    for node_id, slug, name, names in _fetch(
        f"SELECT nt.node_id, t.slug, t.name, t.translations FROM {s}.content_node_tags nt "  # noqa: S608
        f"JOIN {s}.content_tag t ON t.id = nt.tag_id ORDER BY t.slug"
    ):
        tags.setdefault(node_id, []).append((slug, name, _json(names)))
    renditions: dict[UUID, list[tuple[int, str]]] = {}
    for media_id, width, name in _fetch(
        f"SELECT media_id, width, file FROM {s}.content_rendition ORDER BY width"  # noqa: S608
    ):
        renditions.setdefault(media_id, []).append((width, name))
    translations: dict[UUID, dict[str, tuple]] = {}
    for node_id, locale, *values in _fetch(
        f"SELECT node_id, locale, title, slug, excerpt, body_html FROM {s}.content_nodetranslation"  # noqa: S608
    ):
        translations.setdefault(node_id, {})[locale] = (locale, *values)

    rows: dict[Key, dict[str, Any]] = {}
    for node in nodes:
        node_id, kind, version, published_at, author_id, _username, first, last = node[:8]
        category_id, category_slug, category_name = node[8:11]
        category_names = _json(node[11])
        image_id, image_file, image_width, image_height, alt_text = node[12:]
        if isinstance(alt_text, str):
            alt_text = json.loads(alt_text)
        available = translations.get(node_id, {})
        if not available:
            continue
        # A name the author gave, else a neutral label: never the username (a login email).
        author_name = ((f"{first} {last}".strip() or "Staff writer")[:255]) if author_id else ""
        node_tags = tags.get(node_id, [])
        for locale in served:
            chosen = available.get(locale) or available.get(default)
            chosen = chosen or available[min(available)]
            content_locale, title, slug, excerpt, body_html = chosen
            body_text = plain(body_html)[:BODY_TEXT_LIMIT]
            rows[(node_id, locale)] = {
                "kind": kind,
                "content_locale": content_locale,
                "title": title,
                "slug": slug,
                "excerpt": _excerpt(excerpt, body_html),
                "body_text": body_text,
                "author_id": author_id,
                "author_name": author_name,
                "category_id": category_id,
                "category_slug": category_slug or "",
                "category_name": _name_in(locale, category_name, category_names),
                "tag_slugs": [slug for slug, _, _ in node_tags],
                "tag_names": [_name_in(locale, name, names) for _, name, names in node_tags],
                # Uploaded files live under MEDIA_URL, in a folder named after the schema.
                "image_id": image_id,
                "image_url": f"{settings.MEDIA_URL}{schema}/{image_file}" if image_id else "",
                "image_width": image_width,
                "image_height": image_height,
                "image_alt": (
                    (alt_text or {}).get(content_locale)
                    or next(iter((alt_text or {}).values()), "")
                )
                if image_id
                else "",
                "image_srcset": _srcset(
                    schema, image_file, image_width, renditions.get(image_id, [])
                ),
                "published_at": published_at,
                "reading_minutes": max(1, math.ceil(len(body_text.split()) / WORDS_PER_MINUTE)),
                "search_config": LANGUAGE_CONFIGS.get(
                    content_locale.split("-")[0].lower(), "simple"
                ),
                "source_version": version,
            }
    return rows


def _srcset(schema: str, original: str, width: int | None, renditions: list) -> str:
    """Each rendition narrower than the original with its width, then the original; or nothing."""
    narrower = [(w, name) for w, name in renditions if width and w < width]
    if not narrower:
        return ""
    sources = [f"{settings.MEDIA_URL}{schema}/{name} {w}w" for w, name in narrower]
    return ", ".join([*sources, f"{settings.MEDIA_URL}{schema}/{original} {width}w"])


def stored_rows(schema: str) -> dict[Key, dict[str, Any]]:
    """The listing's rows as stored, by (node id, locale), with their search vectors as text."""
    s = connection.ops.quote_name(schema)
    names = ("node_id", "locale", *FIELDS, "search_vector")
    columns = ", ".join(
        name if name != "search_vector" else "search_vector::text" for name in names
    )
    rows = _fetch(f"SELECT {columns} FROM {s}.index_content_listing")  # noqa: S608
    return {(row[0], row[1]): dict(zip(names[2:], row[2:], strict=True)) for row in rows}


def _vector(row: dict[str, Any]) -> str:
    config = row["search_config"]
    ((vector,),) = _fetch(
        "SELECT (setweight(to_tsvector(%s::regconfig, %s), 'A') || "
        "setweight(to_tsvector(%s::regconfig, %s), 'B') || "
        "setweight(to_tsvector(%s::regconfig, %s), 'C'))::text",
        [config, row["title"], config, row["excerpt"], config, row["body_text"]],
    )
    return vector


def differences(schema: str) -> list[str]:
    """How the stored listing of ``schema`` differs from the oracle's (empty: it does not)."""
    expected, stored = oracle_rows(schema), stored_rows(schema)
    found = [f"missing {key}" for key in sorted(expected.keys() - stored.keys(), key=str)]
    found += [f"unexpected {key}" for key in sorted(stored.keys() - expected.keys(), key=str)]
    for key in sorted(expected.keys() & stored.keys(), key=str):
        want, have = expected[key], stored[key]
        found += [
            f"{key} {name}: stored {have[name]!r}, expected {want[name]!r}"
            for name in FIELDS
            if have[name] != want[name]
        ]
        if have["search_vector"] != _vector(want):
            found.append(f"{key} search_vector: stored {have['search_vector']!r}")
    return found


def assert_listing_matches_oracle(schema: str, *, rows: int) -> None:
    """The listing of ``schema`` is what the oracle says, and holds ``rows`` rows."""
    problems = differences(schema)
    assert not problems, "\n".join(problems)
    assert len(oracle_rows(schema)) == rows


# -- the product listing ------------------------------------------------------------------
#
# What a product listing row is meant to hold, worked out again from commerce's tables:
# - one row per active product and locale the tenant serves;
# - the product's translation in that locale, else its own fields (the default locale's);
# - per currency, the lowest and highest variant price, rounded to the currency's minor unit;
#   on sale when any price has a compare-at price;
# - in stock when a variant is untracked, may oversell, or has units available (on hand
#   minus reserved, every location); the total counts available units of the other variants;
# - the options by position and their values as "Name:Value"; collections and categories by
#   id and by handle, sorted; the first image by position; the product's version;
# - a search vector weighting title, vendor and type, description A, B and C.

PRODUCT_FIELDS = (
    "content_locale", "title", "handle", "status", "vendor", "product_type", "description_text",
    "price_min", "price_max", "on_sale", "in_stock", "total_available", "variant_count",
    "option_names", "option_values", "image_id", "collection_ids", "collection_handles",
    "category_ids", "category_handles", "created_at", "search_config", "source_version",
)  # fmt: skip
# ISO 4217 minor units other than two, for the currencies the tests sell in.
_MINOR_UNITS = {"JPY": 0, "BHD": 3}


def _rounded(amount: Decimal, currency: str) -> str:
    places = _MINOR_UNITS.get(currency, 2)
    return str(amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def product_oracle_rows(schema: str) -> dict[Key, dict[str, Any]]:
    """The rows the product listing of ``schema`` should hold, by (product id, locale)."""
    default, served = _served_locales(schema)
    s = connection.ops.quote_name(schema)
    products = _fetch(
        f"SELECT id, handle, title, description_html, vendor, product_type, created_at, version "  # noqa: S608
        f"FROM {s}.commerce_product WHERE status = 'active'"
    )
    translations: dict[UUID, dict[str, tuple[str, str]]] = {}
    for product_id, locale, title, html in _fetch(
        f"SELECT product_id, locale, title, description_html FROM {s}.commerce_producttranslation"  # noqa: S608
    ):
        translations.setdefault(product_id, {})[locale] = (title, html)
    prices = {
        (product_id, currency): (low, high, sale)
        for product_id, currency, low, high, sale in _fetch(
            f"SELECT v.product_id, p.currency, min(p.amount), max(p.amount), "  # noqa: S608
            f"bool_or(p.compare_at_amount IS NOT NULL) FROM {s}.commerce_price p "
            f"JOIN {s}.commerce_variant v ON v.id = p.variant_id GROUP BY 1, 2"
        )
    }
    stock = {
        product_id: (count, in_stock, total)
        for product_id, count, in_stock, total in _fetch(
            f"""
            SELECT v.product_id, count(*),
                   bool_or(NOT v.tracked OR v.inventory_policy = 'continue'
                           OR coalesce(a.units, 0) > 0),
                   coalesce(sum(greatest(coalesce(a.units, 0), 0))
                            FILTER (WHERE v.tracked AND v.inventory_policy = 'deny'), 0)
            FROM {s}.commerce_variant v
            LEFT JOIN (SELECT variant_id, sum(on_hand - reserved) AS units
                       FROM {s}.commerce_stocklevel GROUP BY variant_id) a
                   ON a.variant_id = v.id
            GROUP BY v.product_id
            """  # noqa: S608
        )
    }
    options: dict[UUID, tuple[list[str], list[str]]] = {}
    for product_id, name, values in _fetch(
        f"""
        SELECT o.product_id, o.name,
               coalesce(array_agg(ov.value ORDER BY ov.position)
                        FILTER (WHERE ov.id IS NOT NULL), '{{}}')
        FROM {s}.commerce_productoption o
        LEFT JOIN {s}.commerce_optionvalue ov ON ov.option_id = o.id
        GROUP BY o.product_id, o.id, o.name, o.position ORDER BY o.position
        """  # noqa: S608
    ):
        names, tokens = options.setdefault(product_id, ([], []))
        names.append(name)
        tokens.extend(f"{name}:{value}" for value in values)
    collections: dict[UUID, list[tuple[int, str]]] = {}
    for product_id, pk, handle in _fetch(
        f"SELECT m.product_id, c.id, c.handle FROM {s}.commerce_collectionproduct m "  # noqa: S608
        f"JOIN {s}.commerce_collection c ON c.id = m.collection_id"
    ):
        collections.setdefault(product_id, []).append((pk, handle))
    categories: dict[UUID, list[tuple[int, str]]] = {}
    for product_id, pk, handle in _fetch(
        f"SELECT m.product_id, c.id, c.handle FROM {s}.commerce_product_categories m "  # noqa: S608
        f"JOIN {s}.commerce_category c ON c.id = m.category_id"
    ):
        categories.setdefault(product_id, []).append((pk, handle))

    first_images = dict(
        _fetch(
            f"SELECT DISTINCT ON (product_id) product_id, id FROM {s}.commerce_productimage "  # noqa: S608
            "ORDER BY product_id, position"
        )
    )

    rows: dict[Key, dict[str, Any]] = {}
    for product_id, handle, title, html, vendor, kind, created_at, version in products:
        own = {currency: value for (pid, currency), value in prices.items() if pid == product_id}
        count, in_stock, total = stock.get(product_id, (0, False, 0))
        names, tokens = options.get(product_id, ([], []))
        in_collections = collections.get(product_id, [])
        in_categories = categories.get(product_id, [])
        for locale in served:
            translated = translations.get(product_id, {}).get(locale)
            text_locale = locale if translated else default
            shown_title, shown_html = translated or (title, html)
            rows[(product_id, locale)] = {
                "content_locale": text_locale,
                "title": shown_title,
                "handle": handle,
                "status": "active",
                "vendor": vendor,
                "product_type": kind,
                "description_text": plain(shown_html)[:BODY_TEXT_LIMIT],
                "price_min": {c: _rounded(v[0], c) for c, v in sorted(own.items())},
                "price_max": {c: _rounded(v[1], c) for c, v in sorted(own.items())},
                "on_sale": any(v[2] for v in own.values()),
                "in_stock": bool(in_stock),
                "total_available": int(total),
                "variant_count": count,
                "option_names": names,
                "option_values": tokens,
                "image_id": first_images.get(product_id),
                "collection_ids": sorted(pk for pk, _ in in_collections),
                "collection_handles": sorted(h for _, h in in_collections),
                "category_ids": sorted(pk for pk, _ in in_categories),
                "category_handles": sorted(h for _, h in in_categories),
                "created_at": created_at,
                "search_config": LANGUAGE_CONFIGS.get(text_locale.split("-")[0].lower(), "simple"),
                "source_version": version,
            }
    return rows


def product_stored_rows(schema: str) -> dict[Key, dict[str, Any]]:
    s = connection.ops.quote_name(schema)
    names = ("product_id", "locale", *PRODUCT_FIELDS, "search_vector")
    columns = ", ".join(
        name if name != "search_vector" else "search_vector::text" for name in names
    )
    rows = _fetch(f"SELECT {columns} FROM {s}.index_product_listing")  # noqa: S608
    return {
        (row[0], row[1]): {
            name: _json(value) if name in ("price_min", "price_max") else value
            for name, value in zip(names[2:], row[2:], strict=True)
        }
        for row in rows
    }


def _product_vector(row: dict[str, Any]) -> str:
    config = row["search_config"]
    ((vector,),) = _fetch(
        "SELECT (setweight(to_tsvector(%s::regconfig, %s), 'A') || "
        "setweight(to_tsvector(%s::regconfig, %s), 'B') || "
        "setweight(to_tsvector(%s::regconfig, %s), 'C'))::text",
        [
            config, row["title"], config, f"{row['vendor']} {row['product_type']}", config,
            row["description_text"],
        ],
    )  # fmt: skip
    return vector


def product_differences(schema: str) -> list[str]:
    """How the stored product listing of ``schema`` differs from the oracle's."""
    expected, stored = product_oracle_rows(schema), product_stored_rows(schema)
    found = [f"missing {key}" for key in sorted(expected.keys() - stored.keys(), key=str)]
    found += [f"unexpected {key}" for key in sorted(stored.keys() - expected.keys(), key=str)]
    for key in sorted(expected.keys() & stored.keys(), key=str):
        want, have = expected[key], stored[key]
        found += [
            f"{key} {name}: stored {have[name]!r}, expected {want[name]!r}"
            for name in PRODUCT_FIELDS
            if have[name] != want[name]
        ]
        if have["search_vector"] != _product_vector(want):
            found.append(f"{key} search_vector: stored {have['search_vector']!r}")
    return found


def assert_products_match_oracle(schema: str, *, rows: int) -> None:
    """The product listing of ``schema`` is what the oracle says, and holds ``rows`` rows."""
    problems = product_differences(schema)
    assert not problems, "\n".join(problems)
    assert len(product_oracle_rows(schema)) == rows
