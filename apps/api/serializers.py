"""Serializer pieces every endpoint of the API shares: strict input, nodes, translations, tags.

Small input serializers check the shape of a request (the services check the
rules); small output serializers shape the answers. The endpoints themselves
live in one module per resource (``nodes``, ``posts``, ``pages``,
``taxonomy``, ``media``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from apps.content.models import BodyFormat, NodeStatus
from apps.index.text import author_display_name

MAX_ID = 2**63 - 1  # bigint primary keys
MAX_POSITION = 2**31 - 1

# -- input -------------------------------------------------------------------------


class StrictInput(serializers.Serializer):
    # Input that refuses the fields it does not know: a typo is an error, not a silent no-op.
    # (A comment, not a docstring: the schema would show it on every input.)

    def to_internal_value(self, data: Any) -> Any:
        unknown = {}
        if isinstance(data, Mapping):
            for name in data:
                # multipart spells nested values "alt_text.en"
                base = str(name).split(".", 1)[0]
                if base not in self.fields or self.fields[base].read_only:
                    unknown[name] = ["Unknown field."]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                exc.detail.update(unknown)
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class TranslationIn(StrictInput):
    """A translation: the content in one locale."""

    title = serializers.CharField(max_length=255)
    slug = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="Made from the title when empty; slugified.",
    )
    excerpt = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    body_format = serializers.ChoiceField(choices=BodyFormat.choices, required=False)
    meta_title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    meta_description = serializers.CharField(max_length=320, required=False, allow_blank=True)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class NulFreeJSONField(serializers.JSONField):
    """JSON that PostgreSQL can store: no NUL characters (jsonb refuses them)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if _has_nul(value):
            raise serializers.ValidationError("Null characters are not allowed.")
        return value


class TreeFieldsIn(StrictInput):
    """Where a node sits in the tree."""

    parent = serializers.UUIDField(required=False, allow_null=True)
    position = serializers.IntegerField(required=False, min_value=0, max_value=MAX_POSITION)


class NodeFieldsIn(StrictInput):
    """Fields of a node besides its place in the tree."""

    category = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="Category id."
    )
    tags = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=100,
        help_text="Tag ids; replaces the node's tags.",
    )
    metadata = NulFreeJSONField(
        required=False,
        help_text="A flat JSON object: slug-like keys; strings, numbers, booleans or lists of them.",
    )
    publish_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Scheduled publication of a draft."
    )
    canonical_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    og_image = serializers.UUIDField(required=False, allow_null=True, help_text="Media id.")


class TranslationPatchIn(TranslationIn):
    """Fields of a translation to replace; the others keep their value."""

    title = serializers.CharField(max_length=255, required=False)


def translations_in() -> serializers.DictField:
    """The translations of a new node."""
    return serializers.DictField(
        child=TranslationIn(),
        allow_empty=False,
        help_text="Translations keyed by locale (one of the site's enabled locales).",
    )


def translations_patch() -> serializers.DictField:
    """Translations to change: per locale, the fields given replace the stored ones."""
    return serializers.DictField(
        child=TranslationPatchIn(),
        required=False,
        help_text=(
            "Translations keyed by locale: fields given replace the stored ones, the others "
            "stay; a new locale needs a title."
        ),
    )


class NodeCreateIn(TreeFieldsIn, NodeFieldsIn):
    """A new node of any kind, created as a draft."""

    kind = serializers.CharField(
        max_length=32, help_text="recipe, event, ...: lowercase letters, digits, '-' or '_'."
    )
    translations = translations_in()


class NodeUpdateIn(TreeFieldsIn, NodeFieldsIn):
    """Fields of a node to change; the others keep their value."""

    translations = translations_patch()


# Input field name -> keyword of the update services (content's node_update, blog's post_update).
UPDATE_KEYWORDS = {
    "parent": "parent_id",
    "position": "position",
    "category": "category_id",
    "tags": "tag_ids",
    "metadata": "metadata",
    "publish_at": "publish_at",
    "canonical_url": "canonical_url",
    "og_image": "og_image_id",
}


def update_keywords(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated input fields as keywords of an update service."""
    return {UPDATE_KEYWORDS[name]: value for name, value in data.items()}


class ScheduleIn(StrictInput):
    """When a draft gets published."""

    publish_at = serializers.DateTimeField(
        allow_null=True, help_text="When to publish (in the future), or null to cancel."
    )


# -- output ------------------------------------------------------------------------


class TranslationOut(serializers.Serializer):
    locale = serializers.CharField()
    title = serializers.CharField()
    slug = serializers.CharField()
    excerpt = serializers.CharField()
    body = serializers.CharField()
    body_format = serializers.ChoiceField(choices=BodyFormat.choices)
    body_html = serializers.CharField(help_text="The body rendered and sanitized.")
    meta_title = serializers.CharField()
    meta_description = serializers.CharField()
    updated_at = serializers.DateTimeField()


class TranslationsOut(serializers.DictField):
    """A node's translations keyed by locale (from the prefetched rows)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=TranslationOut(), read_only=True, **kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        return {row.locale: self.child.to_representation(row) for row in value.all()}


class AuthorOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return author_display_name(user)


class TagNameIn(StrictInput):
    """A tag's name in one locale."""

    name = serializers.CharField(max_length=80)


class CategoryNameIn(StrictInput):
    """A category's name and description in one locale."""

    name = serializers.CharField(max_length=120)
    description = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        help_text="Empty: the default locale's description.",
    )


NAMES_HELP = (
    "Names in the site's other enabled locales, keyed by locale; `name` is the default "
    "locale's. A locale without one shows `name`."
)
REPLACES_HELP = " Replaces the stored ones (an empty object removes them all)."


def names_in(child: serializers.Serializer, *, replaces: bool = False) -> serializers.DictField:
    """Names per locale as input; ``replaces`` on an update (help text only: the service replaces)."""
    help_text = NAMES_HELP + (REPLACES_HELP if replaces else "")
    return serializers.DictField(child=child, required=False, help_text=help_text)


class TagNameOut(serializers.Serializer):
    name = serializers.CharField()


class CategoryNameOut(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(default="")


class CategoryRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    translations = serializers.DictField(child=CategoryNameOut(), help_text=NAMES_HELP)


class TagOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    translations = serializers.DictField(child=TagNameOut(), help_text=NAMES_HELP)


class NodeOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=NodeStatus.choices)
    parent = serializers.UUIDField(source="parent_id", allow_null=True)
    position = serializers.IntegerField()
    author = AuthorOut(allow_null=True)
    category = CategoryRefOut(allow_null=True)
    tags = TagOut(many=True)
    published_at = serializers.DateTimeField(allow_null=True)
    publish_at = serializers.DateTimeField(allow_null=True)
    metadata = serializers.JSONField()
    canonical_url = serializers.CharField()
    og_image = serializers.UUIDField(source="og_image_id", allow_null=True)
    version = serializers.IntegerField(help_text="Bumped by every change.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    translations = TranslationsOut()
