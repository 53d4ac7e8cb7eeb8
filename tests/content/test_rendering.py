"""XSS vectors in Markdown and HTML never survive rendering."""

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.content.rendering import render_body, render_markdown, sanitize_html

VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<details open ontoggle=alert(1)>",
    '<p onclick="alert(1)">hi</p>',
]

FORBIDDEN_TAGS = {"script", "iframe", "svg", "object", "form", "style", "math", "body", "embed"}


class _Audit(HTMLParser):
    """Collects what a browser would execute: forbidden tags, handlers, script URLs, styles."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            compact = "".join((value or "").split()).lower()
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag}@{name}")
            if name in {"href", "src", "action", "data"} and compact.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.problems.append(f"{tag}@{name}={value}")


def _safe(html: str) -> None:
    audit = _Audit()
    audit.feed(html)
    assert not audit.problems, (audit.problems, html)


@pytest.mark.parametrize("vector", VECTORS)
@pytest.mark.parametrize("body_format", ["markdown", "html"])
def test_vectors_never_survive(vector, body_format):
    _safe(render_body(vector, body_format))


def test_markdown_still_renders():
    html = render_markdown(
        "# Title\n\nSome *text* and a [link](https://example.com).\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h1>Title</h1>" in html
    assert "<em>text</em>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<table>" in html


def test_safe_html_is_kept():
    html = sanitize_html(
        '<p>Hello <strong>world</strong> <img src="https://x.test/a.png" alt="a"></p>'
    )
    assert "<strong>world</strong>" in html and 'alt="a"' in html


@given(st.text(alphabet=st.sampled_from(list("<>\"'=/ ajvscriptonerloadhf:()&#;x")), max_size=120))
def test_arbitrary_markup_never_yields_handlers_or_scripts(text):
    for body_format in ("markdown", "html"):
        _safe(render_body(text, body_format))
