"""Page blocks: each type's schema, field-named errors, links, and no XSS surviving storage or rendering."""

import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.pages.blocks import BLOCK_TYPES, validate_blocks
from apps.pages.errors import PagesInvalid
from apps.pages.links import clean_link
from apps.pages.rendering import render_blocks

MEDIA = str(uuid.uuid4())
VALID = {
    "hero": {
        "type": "hero", "title": "Welcome", "subtitle": "Hi", "image_id": MEDIA,
        "cta_label": "Go", "cta_url": "/about/",
    },
    "rich_text": {"type": "rich_text", "format": "markdown", "body": "Some **text**"},
    "image": {"type": "image", "media_id": MEDIA, "caption": "A box", "link_url": "https://x.test/"},
    "gallery": {"type": "gallery", "title": "Pictures", "images": [{"media_id": MEDIA}]},
    "call_to_action": {
        "type": "call_to_action", "title": "Join", "button_label": "Sign up", "url": "/join/",
    },
    "faq": {"type": "faq", "items": [{"question": "Why?", "answer": "Because."}]},
    "embed_html": {"type": "embed_html", "html": "<p>Hello <b>there</b></p>"},
    "product_grid": {"type": "product_grid", "category_slug": "featured", "count": 4},
}  # fmt: skip
LOCALES = ["en", "de"]


def errors_of(blocks) -> dict[str, str]:
    with pytest.raises(PagesInvalid) as caught:
        validate_blocks(blocks, locales=LOCALES)
    return caught.value.errors


def test_every_block_type_has_a_valid_example():
    assert set(VALID) == set(BLOCK_TYPES)
    cleaned = validate_blocks({"en": list(VALID.values())}, locales=LOCALES)
    assert [block["type"] for block in cleaned["en"]] == list(VALID)
    # Normalized: defaults filled in, so what is stored is complete.
    assert cleaned["en"][5]["title"] == ""
    assert cleaned["en"][0]["image_id"] == MEDIA


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({**VALID["hero"], "title": ""}, "title"),
        ({**VALID["hero"], "title": "x" * 201}, "title"),
        ({**VALID["hero"], "cta_url": ""}, "cta_url"),  # a label without a URL
        ({**VALID["hero"], "cta_url": "javascript:alert(1)"}, "cta_url"),
        ({**VALID["hero"], "image_id": "not-a-uuid"}, "image_id"),
        ({**VALID["rich_text"], "format": "rtf"}, "format"),
        ({**VALID["rich_text"], "body": ""}, "body"),
        ({"type": "rich_text", "format": "html", "body": "<script>alert(1)</script>"}, "body"),
        ({**VALID["image"], "media_id": None}, "media_id"),
        ({**VALID["image"], "link_url": "data:text/html,<script>"}, "link_url"),
        ({**VALID["gallery"], "images": []}, "images"),
        ({**VALID["gallery"], "images": [{"media_id": MEDIA, "x": 1}]}, "images[0].x"),
        ({**VALID["gallery"], "images": [{"caption": "no id"}]}, "images[0].media_id"),
        ({**VALID["call_to_action"], "url": "//evil.test/"}, "url"),
        ({**VALID["call_to_action"], "button_label": ""}, "button_label"),
        ({**VALID["call_to_action"], "style": "loud"}, "style"),
        ({**VALID["faq"], "items": []}, "items"),
        ({**VALID["faq"], "items": [{"question": "Why?"}]}, "items[0].answer"),
        ({"type": "embed_html", "html": ""}, "html"),
        ({"type": "embed_html", "html": "<script>alert(1)</script>"}, "html"),
        ({**VALID["product_grid"], "category_slug": "Not A Slug"}, "category_slug"),
        ({**VALID["product_grid"], "count": 0}, "count"),
        ({**VALID["product_grid"], "count": 25}, "count"),
        ({**VALID["hero"], "colour": "red"}, "colour"),
        ({"type": "marquee", "text": "1999"}, "type"),
        ({"title": "no type"}, "type"),
    ],
)
def test_bad_input_is_refused_naming_the_field(block, field):
    errors = errors_of({"de": [VALID["faq"], block]})
    assert f"blocks.de[1].{field}" in errors, errors


def test_the_shape_and_locales_are_checked():
    assert "blocks" in errors_of(["not", "an", "object"])
    assert "blocks.fr" in errors_of({"fr": [VALID["faq"]]})
    assert "blocks.en" in errors_of({"en": {"type": "hero"}})
    assert "blocks.en[0]" in errors_of({"en": ["a string"]})
    assert "blocks.en" in errors_of({"en": [VALID["faq"]] * 101})
    assert validate_blocks(None, locales=LOCALES) == {}


def test_all_bad_fields_are_reported_at_once():
    errors = errors_of(
        {"en": [{**VALID["hero"], "title": ""}], "de": [{**VALID["product_grid"], "count": 99}]}
    )
    assert set(errors) == {"blocks.en[0].title", "blocks.de[0].count"}


@pytest.mark.parametrize(
    "link",
    ["/", "/about/team/", "#faq", "https://example.test/x?y=1", "mailto:hi@example.test", "tel:+4930123"],
)  # fmt: skip
def test_safe_links_pass(link):
    assert clean_link(f"  {link} ") == link


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:x",
        "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x", "//evil.test/", "/\\evil.test",
        "about/team", "https://", "http:/x", "ftp://files.test/", "", "/" + "a" * 600,
    ],
)  # fmt: skip
def test_unsafe_links_are_refused(link):
    with pytest.raises(ValueError):
        clean_link(link)


XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload="alert(1)"><circle/></svg>',
    '<iframe src="https://evil.test/"></iframe>',
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">x</p>',
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    '<a href="JaVaScRiPt:alert(1)">y</a>',
    '<object data="x.swf"></object><embed src="x.swf">',
    "<style>body{}</style>",
]


UNSAFE = [
    re.compile(r"<\s*(script|iframe|svg|math|object|embed|style)\b", re.I),  # dangerous tags
    re.compile(r"<[^>]*\s(on\w+|style)\s*=", re.I),  # event handlers, inline styles
    re.compile(r"<[^>]*=\s*[\"']?\s*(javascript|data|vbscript):", re.I),  # script URLs
]


def _unsafe(html: str) -> bool:
    """Whether real markup (not escaped text) could run script."""
    return any(pattern.search(html) for pattern in UNSAFE)


def _rendered(blocks: list[dict]) -> str:
    html = []
    for block in render_blocks(blocks, media={}, locale="en"):
        html += [str(value) for value in block.data.values()]
        html += [str(item["answer_html"]) for item in block.data.get("items", [])]
    return "\n".join(html)


@pytest.mark.parametrize("payload", XSS)
def test_xss_never_survives_storage_or_rendering(payload):
    blocks = [
        {"type": "rich_text", "format": "markdown", "body": f"Text {payload} [x](javascript:alert(1))"},
        {"type": "rich_text", "format": "html", "body": f"<p>ok</p>{payload}"},
        {"type": "embed_html", "html": f"<p>ok</p>{payload}"},
        {"type": "faq", "items": [{"question": "q", "answer": f"a {payload}"}]},
    ]  # fmt: skip
    stored = validate_blocks({"en": blocks}, locales=LOCALES)["en"]
    assert not _unsafe(stored[1]["body"]) and not _unsafe(stored[2]["html"])
    assert not _unsafe(_rendered(stored))
    # Blocks stored before validation existed (or edited in the database) are made safe too.
    assert not _unsafe(_rendered(blocks))


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.text(max_size=40),
    payload=st.sampled_from(XSS),
    suffix=st.text(max_size=40),
    fmt=st.sampled_from(["markdown", "html"]),
)
def test_xss_mixed_into_any_text_never_survives(prefix, payload, suffix, fmt):
    body = f"{prefix}{payload}{suffix}"
    blocks = [
        {"type": "rich_text", "format": fmt, "body": body},
        {"type": "embed_html", "html": body},
    ]
    assert not _unsafe(_rendered(blocks))


def test_a_stored_block_that_no_longer_validates_is_skipped():
    rendered = render_blocks(
        [{"type": "hero"}, {"type": "gone"}, VALID["faq"]], media={}, locale="en"
    )
    assert [block.type for block in rendered] == ["faq"]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(max_size=60), st.from_regex(r"[a-zA-Z]{1,10}:[^\s]{0,20}", fullmatch=True))
)
def test_whatever_clean_link_accepts_stays_on_site_or_uses_a_safe_scheme(value):
    try:
        link = clean_link(value)
    except ValueError:
        return
    if link.startswith("#") or (link.startswith("/") and not link.startswith("//")):
        return
    assert link.split(":", 1)[0].lower() in {"http", "https", "mailto", "tel"}
