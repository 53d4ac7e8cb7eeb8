"""Blocks made ready for templates: sanitized HTML, resolved images, one template per type.

Some blocks show data that pages may not read: a product grid's products belong to commerce,
which the wrappers never import. The delivery layer registers a provider for such a block
type (``register_block_data``, from the storefront's ``AppConfig.ready``); without one the
block renders empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from apps.content import selectors as content
from apps.content.models import Media
from apps.content.rendering import render_body, render_markdown, sanitize_html

from .blocks import (
    BLOCK_TYPES,
    CallToActionBlock,
    EmbedHtmlBlock,
    FaqBlock,
    GalleryBlock,
    HeroBlock,
    ImageBlock,
    ProductGridBlock,
    RichTextBlock,
    media_references,
    parse_block,
)

# provider(block, *, request, locale) -> extra template data for that block (a dict)
BlockDataProvider = Callable[..., dict[str, Any]]
_block_data: dict[str, BlockDataProvider] = {}


def register_block_data(block_type: str, provider: BlockDataProvider) -> None:
    """Let ``provider`` add the data of every ``block_type`` block a page renders.

    It is called once per such block with the parsed block, the request (None outside one)
    and the page's locale, and returns what the block's template shows besides the block's
    own fields. Registering again replaces the provider.
    """
    if block_type not in BLOCK_TYPES:
        raise ValueError(f"unknown block type {block_type!r}")
    _block_data[block_type] = provider


def block_data_provider(block_type: str) -> BlockDataProvider | None:
    return _block_data.get(block_type)


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    width: int | None
    height: int | None
    caption: str = ""
    srcset: str = ""  # empty until the image's renditions are made: the original alone


def _image(media: Media | None, locale: str, *, alt: str = "", caption: str = "") -> Image | None:
    if media is None:
        return None
    return Image(
        url=media.file.url,
        alt=alt or media.alt(locale),
        width=media.width,
        height=media.height,
        caption=caption,
        srcset=content.media_srcset(media),
    )


def _safe(html: str) -> SafeString:
    return mark_safe(html)  # noqa: S308 - the output of nh3, with our allow-list


@dataclass(frozen=True)
class RenderedBlock:
    type: str
    data: dict[str, Any]

    @property
    def template(self) -> str:
        return f"pages/blocks/{self.type}.html"


def locale_blocks(
    blocks: dict[str, list[dict[str, Any]]], locale: str, default: str
) -> list[dict[str, Any]]:
    """The blocks in ``locale``, else in ``default``, else in any locale that has some."""
    for key in (locale, default):
        if blocks.get(key):
            return blocks[key]
    return next((items for items in blocks.values() if items), [])


def media_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [media_id for _, media_id in media_references({"_": blocks})]


def render_blocks(
    blocks: list[dict[str, Any]],
    *,
    media: dict[str, Media],
    locale: str,
    request: HttpRequest | None = None,
) -> list[RenderedBlock]:
    """Each stored block parsed again (one that no longer validates is skipped) and made safe;
    a block type with a registered provider gets its data from it."""
    rendered = []
    for raw in blocks:
        block = parse_block(raw)
        if block is None:
            continue
        data: dict[str, Any]
        if isinstance(block, HeroBlock):
            data = {
                "title": block.title,
                "subtitle": block.subtitle,
                "image": _image(media.get(str(block.image_id)), locale) if block.image_id else None,
                "cta_label": block.cta_label,
                "cta_url": block.cta_url,
            }
        elif isinstance(block, RichTextBlock):
            data = {"html": _safe(render_body(block.body, block.format))}
        elif isinstance(block, ImageBlock):
            image = _image(
                media.get(str(block.media_id)), locale, alt=block.alt, caption=block.caption
            )
            if image is None:
                continue
            data = {"image": image, "link_url": block.link_url}
        elif isinstance(block, GalleryBlock):
            images = [
                _image(media.get(str(item.media_id)), locale, caption=item.caption)
                for item in block.images
            ]
            data = {"title": block.title, "images": [image for image in images if image]}
            if not data["images"]:
                continue
        elif isinstance(block, CallToActionBlock):
            data = block.model_dump()
        elif isinstance(block, FaqBlock):
            data = {
                "title": block.title,
                "items": [
                    {"question": item.question, "answer_html": _safe(render_markdown(item.answer))}
                    for item in block.items
                ],
            }
        elif isinstance(block, EmbedHtmlBlock):
            data = {"title": block.title, "html": _safe(sanitize_html(block.html))}
        elif isinstance(block, ProductGridBlock):
            data = {
                "title": block.title,
                "collection": block.collection,
                "category": block.category,
                "handles": list(block.handles),
                "count": block.count,
                "cards": [],
            }
        else:  # pragma: no cover - every type of the union is handled above
            continue
        provider = _block_data.get(block.type)
        if provider is not None:
            data.update(provider(block, request=request, locale=locale))
        rendered.append(RenderedBlock(block.type, data))
    return rendered
