"""Text derived from content for the read side: plain text, excerpts, reading time, search configs,
authors' names."""

from __future__ import annotations

import math
import re

from django.utils import translation
from django.utils.translation import gettext_lazy

from apps.content.rendering import plain_text
from apps.people import selectors as people

# PostgreSQL text search configuration per locale (its language part); anything else: simple.
SEARCH_CONFIGS = {"en": "english", "de": "german", "fr": "french", "ru": "russian"}
DEFAULT_SEARCH_CONFIG = "simple"
ALL_SEARCH_CONFIGS = tuple(sorted({*SEARCH_CONFIGS.values(), DEFAULT_SEARCH_CONFIG}))

# The name of an author who has not given one (their login email is never shown).
NEUTRAL_AUTHOR = gettext_lazy("Staff writer")

EXCERPT_WORDS = 40
WORDS_PER_MINUTE = 200
# What the search vector and the highlighted snippets see of a body (tsvector has a 1 MB limit).
MAX_BODY_TEXT = 100_000

# ts_headline marks matches with these (private-use characters that never reach a page):
# the snippet is escaped first, then they become <mark> elements.
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_STOP = "\ue001"

# Without a space after these, "<p>one</p><p>two</p>" would read as "onetwo".
_BLOCK_END = re.compile(
    r"(</(?:p|div|h[1-6]|li|blockquote|pre|tr|td|th|dt|dd|figcaption|caption|summary|details|"
    r"table|thead|tbody|tfoot|ul|ol|dl|figure)\s*>|<br\s*/?>|<hr\s*/?>)",
    re.IGNORECASE,
)


def search_config(locale: str) -> str:
    return SEARCH_CONFIGS.get((locale or "").split("-")[0].lower(), DEFAULT_SEARCH_CONFIG)


def text_of(markup: str) -> str:
    """Readable plain text of (sanitized) HTML: tags stripped, entities decoded, spaces collapsed.

    ``plain_text`` decodes the entities once; decoding again would turn a body that
    shows ``&lt;b&gt;`` into one that says ``<b>``.
    """
    text = plain_text(_BLOCK_END.sub(r"\1 ", markup or ""))
    return text.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, "")


def excerpt_of(excerpt: str, body_html: str, *, words: int = EXCERPT_WORDS) -> str:
    """The editor's excerpt as plain text, else the first ``words`` words of the body."""
    text = text_of(excerpt)
    if text:
        return text
    return excerpt_of_text("", text_of(body_html), words=words)


def excerpt_of_text(excerpt: str, body_text: str, *, words: int = EXCERPT_WORDS) -> str:
    """``excerpt_of`` for a caller that has the body's plain text (``text_of``) already."""
    text = text_of(excerpt)
    if text:
        return text
    body_words = body_text.split()
    if len(body_words) <= words:
        return " ".join(body_words)
    return " ".join(body_words[:words]) + "\u2026"


def reading_minutes(text: str) -> int:
    """Minutes an average reader needs for ``text`` (plain text); at least one."""
    return max(1, math.ceil(len(text.split()) / WORDS_PER_MINUTE))


def author_display_name(user) -> str:
    """The name readers see for an author: their display name (apps.people), else their full
    name, else a neutral label.

    Never the username: here it is the login email, which is private. The
    listing projection, the storefront's post pages, the feeds and the API all
    show this, so an author reads the same everywhere ("" for no author).
    Load the user with its profile (``people.PROFILE``), or this costs a query.
    """
    if user is None:
        return ""
    return people.display_name(user) or str(NEUTRAL_AUTHOR)


def author_in_locale(stored: str) -> str:
    """A stored author name as readers of the active locale see it.

    The listing is written by the relay, outside any reader's locale, so it keeps the
    neutral label in the source language; it is translated when a page shows it.
    """
    with translation.override(None):
        neutral = str(NEUTRAL_AUTHOR)
    return str(NEUTRAL_AUTHOR) if stored == neutral else stored
