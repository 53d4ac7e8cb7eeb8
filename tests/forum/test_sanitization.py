"""What members type never becomes markup a browser runs, and mentions link only where they should.

Bodies (topics and replies, when posted and when edited) are Markdown with HTML allowed, then
sanitized: the stored ``body_html`` has only the allowed tags, no event handler attribute, no
URL of a scheme outside http, https, mailto and tel, no comment. Titles and category names are
text: stored as typed, escaped by the pages that show them, never turned into HTML. A mention
of an existing member's handle becomes a link to their page, but not inside code (spans of
any number of backticks, fenced or indented blocks, ``<code>``) or inside a link, and a
mention of no one stays text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES
from apps.forum import services
from apps.forum.errors import ForumInvalid
from apps.index.models import ForumTopicListing
from tests.index.support import project

from . import factories

VOID = {"br", "hr", "img"}
GENERIC = {"rel", "title", "lang"}  # harmless on any tag (the sanitizer's own)
MEMBER_LINK = "/forum/u/"


class _Audit(HTMLParser):
    """Everything in a piece of HTML a browser could run, and member links where none belong."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name not in ALLOWED_ATTRIBUTES.get(tag, set()) | GENERIC:
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src") and value is not None:
                url = re.sub(r"[\x00-\x20]+", "", value).lower()
                scheme, colon, _rest = url.partition(":")
                if colon and "/" not in scheme and scheme not in URL_SCHEMES:
                    self.problems.append(f"{name}={value!r}")
        if tag == "a":
            if "a" in self.open:
                self.problems.append("a link inside a link")
            href = dict(attrs).get("href") or ""
            if href.startswith(MEMBER_LINK) and {"code", "pre"} & set(self.open):
                self.problems.append("a mention linked inside code")
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")


def problems(html: str) -> list[str]:
    audit = _Audit()
    audit.feed(html)
    audit.close()
    if "<script" in html.lower():
        audit.problems.append("<script")
    return audit.problems


def test_the_audit_sees_what_it_is_here_for():
    assert problems('<p><a href="https://ok.example/" rel="nofollow">ok</a></p>') == []
    assert problems('<a href=" JaVa\tScript:alert(1)">x</a>') == ["href=' JaVa\\tScript:alert(1)'"]
    assert problems('<img src="x" onerror="alert(1)">') == ["attribute onerror on <img>"]
    assert problems("<svg></svg><!-- x -->") == ["tag <svg>", "comment ' x '"]
    assert problems('<code><a href="/forum/u/ada/">@ada</a></code>') == [
        "a mention linked inside code"
    ]


VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;vascript&colon;alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    "[x](vbscript:msgbox(1))",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)">',
    '![a](x" onerror="alert(1))',
    '<p onclick="alert(1)">x</p>',
    '<details open ontoggle="alert(1)"><summary>s</summary></details>',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "[[a](javascript:alert(1))](https://ok.example)",
    "[a](<javascript:alert(1)>)",
    "[a]\n\n[a]: javascript:alert(1)",
    "[a](https://ok.example 'title\" onmouseover=\"alert(1)')",
    "<!-- <script>alert(1)</script> -->",
    "<!--><img src=x onerror=alert(1)>-->",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body { display: none }</style>",
    '<a href="https://ok.example" style="position:fixed;inset:0">x</a>',
    '<form action="javascript:alert(1)"><input autofocus onfocus=alert(1)></form>',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<base href="javascript:alert(1)//"><meta http-equiv="refresh" content="0;url=javascript:1">',
    '<div class="x" id="y" data-x="1"><span title="t">ok</span></div>',
]


@pytest.fixture
def topic(category, alice):
    return services.topic_start(category_id=category.pk, title="T", body="Safe", actor=alice)


@pytest.mark.parametrize("body", VECTORS)
def test_bodies_are_stored_safe_when_posted_and_when_edited(category, topic, alice, bob, body):
    started = services.topic_start(category_id=category.pk, title="T", body=body, actor=alice)
    reply = services.reply_post(topic_id=topic.pk, body=body, actor=bob)
    edited_topic = services.topic_edit(topic_id=topic.pk, body=body, actor=alice)
    edited_reply = services.reply_edit(reply_id=reply.pk, body=f"{body}\n\nedited", actor=bob)
    for post in (started, reply, edited_topic, edited_reply):
        post.refresh_from_db()
        assert post.body.startswith(body.strip())  # the Markdown is kept as typed
        assert problems(post.body_html) == [], post.body_html


def test_what_is_safe_is_kept(topic, bob):
    reply = services.reply_post(
        topic_id=topic.pk,
        body="[docs](https://ok.example/a?b=1) **bold** `code` <kbd>Ctrl</kbd>\n\n> quoted",
        actor=bob,
    )
    html = reply.body_html
    assert '<a href="https://ok.example/a?b=1" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<kbd>Ctrl</kbd>" in html and "<blockquote>" in html


def test_titles_and_category_names_are_text_never_markup(in_acme, alice, mod):
    markup = "<script>alert(1)</script><img src=x onerror=alert(1)> [x](javascript:alert(1))"
    help_ = factories.category(name=f"Help {markup}", description=markup)
    assert (help_.name, help_.description) == (f"Help {markup}", markup)
    assert re.fullmatch(r"[a-z0-9-]+", help_.slug)
    services.category_update(category_id=help_.pk, translations={"de": {"name": markup}}, actor=mod)
    help_.refresh_from_db()
    assert help_.name_in("de") == markup

    topic = services.topic_start(category_id=help_.pk, title=markup, body="Plain.", actor=alice)
    assert topic.title == markup  # as typed: the pages escape it
    assert re.fullmatch(r"[a-z0-9-]+", topic.slug)
    assert topic.body_html.strip() == "<p>Plain.</p>"
    project(name="forum_topics")
    row = ForumTopicListing.objects.get(topic_id=topic.pk)
    assert row.title == markup
    assert (row.excerpt, row.body_text) == ("Plain.", "Plain.")

    with pytest.raises(ForumInvalid) as refused:
        services.topic_start(category_id=help_.pk, title="a\x00b", body="x", actor=alice)
    assert "title" in refused.value.errors


# -- mentions ----------------------------------------------------------------------------


@pytest.fixture
def ada(in_acme):
    """A member with the handle ``ada`` (made on her first post)."""
    user = factories.member("Ada")
    services.member_for(user)
    return user


ADA = f'<a href="{MEMBER_LINK}ada/" rel="noopener noreferrer nofollow">@ada</a>'


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("Thanks @ada!", f"<p>Thanks {ADA}!</p>"),
        ("Thanks @Ada and @ADA", f"<p>Thanks {ADA} and {ADA}</p>"),
        ("**@ada**", f"<p><strong>{ADA}</strong></p>"),
        ("@nobody-here", "<p>@nobody-here</p>"),
        ("`@ada`", "<p><code>@ada</code></p>"),
        ("``code with @ada``", "<p><code>code with @ada</code></p>"),
        ("```\n@ada\n```", "<pre><code>@ada\n</code></pre>"),
        ("~~~\n@ada\n~~~", "<pre><code>@ada\n</code></pre>"),
        ("    indented @ada", "<pre><code>indented @ada\n</code></pre>"),
        ("<code>@ada</code>", "<p><code>@ada</code></p>"),
        (
            "[ask @ada](https://ok.example)",
            '<p><a href="https://ok.example" rel="noopener noreferrer nofollow">ask @ada</a></p>',
        ),
        (
            '<a href="https://ok.example">@ada</a>',
            '<p><a href="https://ok.example" rel="noopener noreferrer nofollow">@ada</a></p>',
        ),
        (
            "<https://ok.example/@ada>",
            '<p><a href="https://ok.example/@ada" rel="noopener noreferrer nofollow">'
            "https://ok.example/@ada</a></p>",
        ),
        ("write to ada@ada.example", "<p>write to ada@ada.example</p>"),
        ("<!-- @ada -->hidden", "hidden"),
    ],
)
def test_mentions_link_existing_members_outside_code_and_links(ada, body, html):
    assert services.render_post(body).strip() == html
    # What is mentioned (and notified, for existing members) is what would be linked.
    mentioned = ["ada"] if ADA in html else ["nobody-here"] if "@nobody" in body else []
    assert services.mentioned_handles(body) == mentioned


def test_a_reply_links_and_names_its_mentions(topic, ada, bob):
    reply = services.reply_post(
        topic_id=topic.pk, body="@ada see `@ada` and @bob-unknown", actor=bob
    )
    assert reply.body_html.strip() == f"<p>{ADA} see <code>@ada</code> and @bob-unknown</p>"
    assert services.mentioned_handles(reply.body) == ["ada", "bob-unknown"]


# -- whatever the input ------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "<", ">", "</", "/>", "script", "SCRIPT", "img", "svg", "a", "iframe", "style", " ",
        "\n", "\t", "=", '"', "'", "`", "```", "    ", "[", "]", "(", ")", "!", "<!--", "-->",
        "javascript:", "JaVaScRiPt:", "data:", "vbscript:", "&#106;", "&#x3a;", "&colon;",
        "on", "onerror", "onload", "onclick", "alert(1)", "href", "src", "http://", "//",
        "@ada", "@", "ada", "*", "_", "#", ">", "\x00", "\u200b", "&", ";", "\\",
    ]
)  # fmt: skip
MARKUP = st.lists(PIECES | st.text(max_size=4), max_size=40).map("".join)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=MARKUP | st.text(max_size=200))
def test_no_input_gives_runnable_markup(ada, body):
    html = services.render_post(body)
    assert problems(html) == [], (body, html)
    assert "\x00" not in html
    assert set(services.mentioned_handles(body)) <= {
        handle.lower() for handle in services.MENTION.findall(body)
    }
