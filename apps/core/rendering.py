"""Turning stored bodies into safe HTML: markdown-it-py for Markdown, nh3 for every output.

Whatever an editor or a merchant (or an attacker with their account) types,
what reaches a page holds no script, no event handler attribute and no
``javascript:`` URL. It lives in the kernel because both domain modules
(content's bodies, commerce's product descriptions) sanitize the same way and
may not import each other.
"""

from __future__ import annotations

import re
from html import unescape as html_unescape

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": True}).enable(
    ["table", "strikethrough"]
)


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    return sanitize_html(_markdown.render(text or ""))


def render_body(body: str, body_format: str) -> str:
    """The safe HTML of a stored body in ``body_format`` ("markdown" or "html")."""
    if body_format == "markdown":
        return render_markdown(body)
    return sanitize_html(body or "")


BLOCK_BOUNDARY = re.compile(
    r"<(?:br|/?(?:p|div|li|h[1-6]|tr|td|th|blockquote|pre|dd|dt|figcaption))\b[^>]*>", re.I
)


def plain_text(html: str) -> str:
    """Text content of (sanitized) HTML, for excerpts, search and reading time.

    Block boundaries become spaces first, so ``<p>one</p><p>two</p>`` reads "one two".
    """
    spaced = BLOCK_BOUNDARY.sub(" ", html or "")
    return " ".join(html_unescape(nh3.clean(spaced, tags=set())).split())
