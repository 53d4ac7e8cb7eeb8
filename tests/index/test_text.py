"""Text for the read side: plain text, excerpts, reading time and highlighted snippets."""

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from apps.index.selectors import highlighted
from apps.index.text import (
    HIGHLIGHT_START,
    HIGHLIGHT_STOP,
    excerpt_of,
    reading_minutes,
    text_of,
)

MARKS = re.compile(r"</?mark>")


def test_text_of_separates_blocks_and_decodes_entities():
    assert text_of("<h1>Title</h1><p>one &amp; two</p><ul><li>a</li><li>b</li></ul>x<br>y") == (
        "Title one & two a b x y"
    )
    assert text_of("<p>keep <em>inline</em>words</p><script>gone()</script>") == "keep inlinewords"
    assert text_of(f"a{HIGHLIGHT_START}b{HIGHLIGHT_STOP}c") == "abc"


def test_excerpts():
    assert excerpt_of("  Given <b>excerpt</b> ", "<p>body</p>") == "Given excerpt"
    assert excerpt_of("", "<p>" + "w " * 10 + "</p>") == " ".join(["w"] * 10)
    long = excerpt_of("", "<p>" + " ".join(str(n) for n in range(100)) + "</p>")
    assert long == " ".join(str(n) for n in range(40)) + "\u2026"


def test_reading_minutes():
    assert [reading_minutes(" ".join(["w"] * n)) for n in (0, 1, 200, 201, 1000)] == [1, 1, 1, 2, 5]


@given(st.lists(st.one_of(st.text(), st.just(HIGHLIGHT_START), st.just(HIGHLIGHT_STOP))))
def test_highlighted_never_lets_markup_through(parts):
    text = "".join(parts)
    out = str(highlighted(text))
    assert "<" not in MARKS.sub("", out) and ">" not in MARKS.sub("", out)
    assert "".join(MARKS.findall(out)) == "<mark></mark>" * (len(MARKS.findall(out)) // 2)
    plain = text.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, "")
    assert html.unescape(MARKS.sub("", out)) == plain


def test_highlighted_marks_matches():
    assert highlighted(f"a {HIGHLIGHT_START}<b>{HIGHLIGHT_STOP} c") == "a <mark>&lt;b&gt;</mark> c"
