"""The product-grid block's schema: one source of products, handles in order, clear errors."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.content.services import NodeInput
from apps.pages.blocks import parse_block, validate_blocks
from apps.pages.errors import PagesInvalid
from apps.pages.models import PageLayout
from tests.pages.support import superuser_client, translations

LOCALES = ["en", "de"]


def grid(**fields):
    return {"type": "product_grid", **fields}


def stored(block) -> dict:
    return validate_blocks({"en": [block]}, locales=LOCALES)["en"][0]


def errors_of(block) -> dict[str, str]:
    with pytest.raises(PagesInvalid) as caught:
        validate_blocks({"en": [{"type": "rich_text", "body": "x"}, block]}, locales=LOCALES)
    return caught.value.errors


def test_each_source_is_stored_normalized():
    assert stored(grid(collection=" Summer ", count=6)) == {
        "type": "product_grid", "title": "", "collection": "summer", "category": "",
        "handles": [], "count": 6,
    }  # fmt: skip
    assert stored(grid(category="tents"))["category"] == "tents"
    listed = stored(grid(handles=["blue-mug", "red-tent", "a-hat"]))
    assert listed["handles"] == ["blue-mug", "red-tent", "a-hat"]  # the editor's order
    assert listed["count"] == 3  # a list shows what it names unless count says otherwise
    assert stored(grid(handles=["blue-mug", "red-tent"], count=1))["count"] == 1


def test_a_stored_layout_with_category_slug_still_works():
    # The first version of the block named the category "category_slug".
    legacy = grid(title="Featured products", category_slug="featured", count=4)
    block = parse_block(legacy)
    assert block is not None and block.category == "featured"
    saved = stored(legacy)
    assert saved["category"] == "featured" and "category_slug" not in saved
    assert stored(grid(category_slug="featured", category="featured"))["category"] == "featured"


@pytest.mark.parametrize(
    ("block", "field", "words"),
    [
        (grid(), "", "choose the products"),
        (grid(title="Only a title", count=4), "", "choose the products"),
        (grid(collection="summer", category="tents"), "category", "not collection + category"),
        (grid(category="tents", handles=["a"]), "handles", "not category + handles"),
        (grid(category_slug="tents", category="mugs"), "category_slug", "give category only"),
        (grid(handles=[f"p-{n}" for n in range(25)]), "handles", "at most 24 products"),
        (grid(handles=["red-tent", "blue-mug", "red-tent"]), "handles", "“red-tent” is listed twice"),
        (grid(handles=["red-tent", "Not a handle!"]), "handles[1]", "lowercase letters"),
        (grid(handles="red-tent"), "handles", "list"),
        (grid(collection="<script>"), "collection", "lowercase letters"),
        (grid(category_slug="Not A Slug"), "category_slug", "lowercase letters"),
        (grid(collection="summer", count=0), "count", "greater than or equal to 1"),
        (grid(collection="summer", count=25), "count", "less than or equal to 24"),
        (grid(collection="summer", colour="red"), "colour", "not permitted"),
    ],
)  # fmt: skip
def test_bad_grids_are_refused_with_a_clear_message_on_the_field(block, field, words):
    errors = errors_of(block)
    path = "blocks.en[1]" + (f".{field}" if field else "")
    assert set(errors) == {path}, errors
    assert words in errors[path], errors


@pytest.mark.usefixtures("acme_site")
def test_the_admin_shows_a_grid_error_on_the_blocks_field():
    with schema_context("acme"):
        page = content.node_create(
            data=NodeInput(kind="page", translations=translations(en=("Bare", "bare")))
        )
    blocks = {"en": [grid(collection="summer", handles=["red-tent"])]}
    response = superuser_client("acme").post(
        "/admin/pages/pagelayout/add/",
        {"node": str(page.pk), "template": "default", "blocks": json.dumps(blocks)},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["blocks"]
    assert any("blocks.en[0].handles" in error and "not collection + handles" in error
               for error in errors), errors  # fmt: skip
    with schema_context("acme"):
        assert not PageLayout.objects.exists()


def test_a_message_with_a_colon_keeps_its_words_unless_it_names_a_field():
    from apps.pages.blocks import _message

    plain = {"type": "value_error", "loc": (0,), "msg": "Value error, a slug: lowercase only"}
    named = {"type": "value_error", "loc": (0,), "msg": "Value error, cta_url: needs a label"}
    assert _message(plain) == ((0,), "a slug: lowercase only")
    assert _message(named) == ((0, "cta_url"), "needs a label")
