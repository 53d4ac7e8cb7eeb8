"""The typed blocks a page body is made of, validated with pydantic.

A page's ``PageLayout.blocks`` is ``{locale: [block, ...]}``; each block is a
JSON object whose ``type`` selects its schema (a discriminated union). Bad input
raises ``PagesInvalid`` naming each bad field (``blocks.en[2].url``). HTML an
editor supplies is sanitized when it is stored and again when it is rendered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal
from uuid import UUID

from django.utils.translation import gettext
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from apps.content.rendering import sanitize_html

from .errors import PagesInvalid
from .links import clean_link

MAX_BLOCKS_PER_LOCALE = 100


def _text(max_length: int, *, required: bool = True) -> Any:
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1 if required else 0, max_length=max_length
        ),
    ]


def _link(value: str) -> str:
    return clean_link(value)


def _optional_link(value: str) -> str:
    return clean_link(value) if value.strip() else ""


def _sanitized(value: str) -> str:
    cleaned = sanitize_html(value).strip()
    if not cleaned:
        raise ValueError("nothing is left once unsafe HTML is removed")
    return cleaned


Link = Annotated[str, StringConstraints(max_length=500), AfterValidator(_link)]
OptionalLink = Annotated[str, StringConstraints(max_length=500), AfterValidator(_optional_link)]
SafeHtml = Annotated[
    str, StringConstraints(min_length=1, max_length=20_000), AfterValidator(_sanitized)
]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HeroBlock(_Block):
    type: Literal["hero"]
    title: _text(200)
    subtitle: _text(500, required=False) = ""
    image_id: UUID | None = None
    cta_label: _text(80, required=False) = ""
    cta_url: OptionalLink = ""

    @model_validator(mode="after")
    def _cta_complete(self) -> HeroBlock:
        if bool(self.cta_label) != bool(self.cta_url):
            raise ValueError("cta_url: a call to action needs both cta_label and cta_url")
        return self


class RichTextBlock(_Block):
    type: Literal["rich_text"]
    format: Literal["markdown", "html"] = "markdown"
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]

    @model_validator(mode="after")
    def _html_is_safe(self) -> RichTextBlock:
        if self.format == "html":
            cleaned = sanitize_html(self.body).strip()
            if not cleaned:
                raise ValueError("body: nothing is left once unsafe HTML is removed")
            object.__setattr__(self, "body", cleaned)
        return self


class ImageBlock(_Block):
    type: Literal["image"]
    media_id: UUID
    caption: _text(300, required=False) = ""
    alt: _text(300, required=False) = ""
    link_url: OptionalLink = ""


class GalleryImage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    media_id: UUID
    caption: _text(300, required=False) = ""


class GalleryBlock(_Block):
    type: Literal["gallery"]
    title: _text(200, required=False) = ""
    images: list[GalleryImage] = Field(min_length=1, max_length=24)


class CallToActionBlock(_Block):
    type: Literal["call_to_action"]
    title: _text(200)
    text: _text(1000, required=False) = ""
    button_label: _text(80)
    url: Link
    style: Literal["primary", "secondary"] = "primary"


class FaqItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: _text(300)
    answer: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
    ]


class FaqBlock(_Block):
    type: Literal["faq"]
    title: _text(200, required=False) = ""
    items: list[FaqItem] = Field(min_length=1, max_length=50)


class EmbedHtmlBlock(_Block):
    type: Literal["embed_html"]
    title: _text(200, required=False) = ""
    html: SafeHtml


MAX_GRID_PRODUCTS = 24
_HANDLE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,254}")


def _handle(value: str) -> str:
    if not _HANDLE_RE.fullmatch(value):
        raise ValueError(
            gettext(
                "use lowercase letters, digits, '-' and '_' only (255 at most), e.g. %(example)s"
            )
            % {"example": "summer-tent"}
        )
    return value


def _optional_handle(value: str) -> str:
    return _handle(value) if value else ""


Handle = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True), AfterValidator(_handle)
]
OptionalHandle = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True), AfterValidator(_optional_handle)
]


class ProductGridBlock(_Block):
    """Products of the shop, picked by one source: a collection, a category or a list of
    product handles (in the editor's order). ``category_slug`` is the first version's name of
    ``category``, still read from stored layouts (it is stored as ``category``).

    The products themselves are read by the storefront (pages never import commerce), through
    the data provider registered for this block type (``rendering.register_block_data``).
    """

    type: Literal["product_grid"]
    title: _text(200, required=False) = ""
    collection: OptionalHandle = ""
    category: OptionalHandle = ""
    category_slug: OptionalHandle = Field(default="", exclude=True)
    handles: list[Handle] = Field(default_factory=list)
    count: int = Field(default=4, ge=1, le=MAX_GRID_PRODUCTS)

    @model_validator(mode="after")
    def _one_source(self) -> ProductGridBlock:
        if self.category_slug and self.category and self.category_slug != self.category:
            raise ValueError(
                "category_slug: " + gettext("an older name of category: give category only")
            )
        if self.category_slug and not self.category:
            object.__setattr__(self, "category", self.category_slug)
        sources = [name for name in ("collection", "category", "handles") if getattr(self, name)]
        if not sources:
            raise ValueError(
                gettext(
                    "choose the products with one of collection (a collection's handle), "
                    "category (a category's handle) or handles (a list of product handles)"
                )
            )
        if len(sources) > 1:
            raise ValueError(
                f"{sources[1]}: "
                + gettext(
                    "choose the products with one of collection, category or handles, not %(both)s"
                )
                % {"both": " + ".join(sources)}
            )
        if len(self.handles) > MAX_GRID_PRODUCTS:
            raise ValueError(
                "handles: " + gettext("at most %(count)s products") % {"count": MAX_GRID_PRODUCTS}
            )
        repeated = next((h for i, h in enumerate(self.handles) if h in self.handles[:i]), None)
        if repeated:
            raise ValueError(
                "handles: " + gettext("“%(handle)s” is listed twice") % {"handle": repeated}
            )
        if self.handles and "count" not in self.model_fields_set:
            # A list shows every product it names unless the editor says otherwise.
            object.__setattr__(self, "count", len(self.handles))
        return self


Block = Annotated[
    HeroBlock
    | RichTextBlock
    | ImageBlock
    | GalleryBlock
    | CallToActionBlock
    | FaqBlock
    | EmbedHtmlBlock
    | ProductGridBlock,
    Field(discriminator="type"),
]
BLOCK_TYPES = (
    "hero", "rich_text", "image", "gallery", "call_to_action", "faq", "embed_html", "product_grid",
)  # fmt: skip

_one_block = TypeAdapter(Block)
_block_list = TypeAdapter(list[Block])


def _field_path(prefix: str, loc: tuple[Any, ...]) -> str:
    """``blocks.en`` + ``(2, "hero", "title")`` -> ``blocks.en[2].title``."""
    path = prefix
    parts = list(loc)
    if len(parts) >= 2 and parts[1] in BLOCK_TYPES:  # the union's tag, not a field
        del parts[1]
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _message(error: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    loc, message = tuple(error.get("loc", ())), error.get("msg", "invalid")
    message = message.removeprefix("Value error, ")
    if error.get("type") in {"union_tag_not_found", "union_tag_invalid"}:
        loc = (*loc, "type")
        message = gettext("must be one of: %(choices)s") % {"choices": ", ".join(BLOCK_TYPES)}
    elif error.get("type") == "model_attributes_type" or error.get("type") == "model_type":
        message = gettext("must be an object with a 'type'")
    elif ":" in message and error.get("type") == "value_error":
        # a model-level validator naming its field: "cta_url: ..."
        field, rest = (part.strip() for part in message.split(":", 1))
        if field.isidentifier():
            loc, message = (*loc, field), rest
    return loc, message


def _errors(prefix: str, exc: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc, message = _message(error)
        found.setdefault(_field_path(prefix, loc), message)
    return found


def validate_blocks(raw: Any, *, locales: list[str]) -> dict[str, list[dict[str, Any]]]:
    """``raw`` validated and normalized (``{locale: [block, ...]}``), or ``PagesInvalid``."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise PagesInvalid(
            {"blocks": gettext("must be an object mapping a locale to a list of blocks")}
        )
    errors: dict[str, str] = {}
    cleaned: dict[str, list[dict[str, Any]]] = {}
    for locale, blocks in raw.items():
        prefix = f"blocks.{locale}"
        if locale not in locales:
            errors[prefix] = gettext("'%(locale)s' is not enabled for this site (%(enabled)s)") % {
                "locale": locale,
                "enabled": ", ".join(locales),
            }
            continue
        if not isinstance(blocks, list):
            errors[prefix] = gettext("must be a list of blocks")
            continue
        if len(blocks) > MAX_BLOCKS_PER_LOCALE:
            errors[prefix] = gettext("at most %(count)s blocks") % {"count": MAX_BLOCKS_PER_LOCALE}
            continue
        try:
            models = _block_list.validate_python(blocks)
        except ValidationError as exc:
            errors.update(_errors(prefix, exc))
            continue
        cleaned[locale] = [model.model_dump(mode="json") for model in models]
    if errors:
        raise PagesInvalid(errors)
    return cleaned


def parse_block(data: Any) -> _Block | None:
    """A stored block as its model, or None if it no longer validates (it is then skipped)."""
    try:
        return _one_block.validate_python(data)
    except ValidationError:
        return None


def media_references(blocks: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, str]]:
    """``(field path, media id)`` of every image the blocks use."""
    for locale, items in blocks.items():
        for index, block in enumerate(items):
            prefix = f"blocks.{locale}[{index}]"
            if block.get("type") == "hero" and block.get("image_id"):
                yield f"{prefix}.image_id", str(block["image_id"])
            elif block.get("type") == "image":
                yield f"{prefix}.media_id", str(block["media_id"])
            elif block.get("type") == "gallery":
                for position, image in enumerate(block.get("images", [])):
                    yield f"{prefix}.images[{position}].media_id", str(image["media_id"])
