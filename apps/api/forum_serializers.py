"""Serializers of the forum API (``apps.api.forum``): small inputs, small outputs.

Inputs check the shape of a request; the forum's services check the rules (and answer
``ForumInvalid`` with the same field names, ``BodyTooLarge`` for a body over the limit, which
is why no input here bounds a body's length). Authors are shown by their public name and
forum handle, never by their login.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.forum.models import (
    BODY_MAX,
    REASON_MAX,
    TITLE_MAX,
    FlagReason,
    Review,
    TopicStatus,
    WhoMayStart,
)
from apps.forum.services import MAX_TAGS, REPLY_REVIEW, TOPIC_MACHINES
from apps.index.text import author_display_name
from apps.tenancy.selectors import current_locales

from .serializers import MAX_ID, MAX_POSITION, StrictInput, TagOut

COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"
BODY_HELP = (
    f"Markdown; at most {BODY_MAX} characters (a longer one is a 413). Mentions of members "
    "(`@handle`) become links."
)

# -- output ----------------------------------------------------------------------------------


class ForumAuthorOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField(help_text="Their public name (never their login).")
    handle = serializers.SerializerMethodField(help_text="Their forum handle, for @mentions.")

    def get_name(self, user: Any) -> str:
        return author_display_name(user)

    def get_handle(self, user: Any) -> str:
        member = getattr(user, "forum_member", None)
        return member.handle if member is not None else ""


class ForumCategoryTextOut(serializers.Serializer):
    name = serializers.CharField(default="")
    description = serializers.CharField(default="")


class ForumCategoryOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField(help_text="In the site's default locale.")
    description = serializers.CharField(help_text="In the site's default locale.")
    translations = serializers.DictField(
        child=ForumCategoryTextOut(),
        help_text="Locale -> the name and description in it (either may be missing: the "
        "default locale's is shown).",
    )
    colour = serializers.CharField()
    icon = serializers.CharField()
    position = serializers.IntegerField()
    parent_id = serializers.IntegerField(allow_null=True)
    moderated = serializers.BooleanField(
        help_text="New topics and replies wait for a moderator's approval."
    )
    who_may_start = serializers.ChoiceField(choices=WhoMayStart.choices)
    version = serializers.IntegerField(help_text="Bumped by every change.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _topic_actions(topic) -> list[str]:
    return [
        transition.action
        for machine in TOPIC_MACHINES
        for transition in machine.table.available(machine.read(topic))
    ]


class TopicOut(serializers.Serializer):
    id = serializers.IntegerField()
    category_id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    body = serializers.CharField(help_text="Markdown, as written.")
    body_html = serializers.CharField(help_text="The body, rendered and sanitized.")
    locale = serializers.CharField(help_text="The language it is written in.")
    author = ForumAuthorOut(allow_null=True)
    tags = TagOut(many=True)
    status = serializers.ChoiceField(choices=TopicStatus.choices)
    review = serializers.ChoiceField(
        choices=Review.choices, help_text="Only approved topics are public."
    )
    pinned = serializers.BooleanField()
    locked = serializers.BooleanField(help_text="A locked topic takes no replies.")
    solution_reply_id = serializers.IntegerField(
        source="solution_id", allow_null=True, help_text="The reply marked as the answer."
    )
    views = serializers.IntegerField(source="views_count")
    reply_count = serializers.IntegerField(
        allow_null=True,
        help_text="Approved replies, as the forum's listing counts them (updated within moments "
        "of a change); null while the topic is not public.",
    )
    last_activity_at = serializers.DateTimeField(
        allow_null=True,
        help_text="The last approved reply's time (else the topic's); null while the topic is "
        "not public.",
    )
    actions = serializers.SerializerMethodField(
        help_text="The moderation actions its current states allow "
        "(`POST /forum/topics/{id}/<action>/`)."
    )
    edited_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_actions(self, topic) -> list[str]:
        return _topic_actions(topic)


class ReplyOut(serializers.Serializer):
    id = serializers.IntegerField()
    topic_id = serializers.IntegerField()
    author = ForumAuthorOut(allow_null=True)
    body = serializers.CharField(help_text="Markdown, as written.")
    body_html = serializers.CharField(help_text="The body, rendered and sanitized.")
    quoted_reply_id = serializers.IntegerField(source="quoted_id", allow_null=True)
    status = serializers.ChoiceField(
        choices=Review.choices, help_text="Only approved replies are public."
    )
    actions = serializers.SerializerMethodField(
        help_text="The moderation actions its status allows (`POST /forum/replies/{id}/<action>/`)."
    )
    version = serializers.IntegerField(help_text="Bumped by every change.")
    edited_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_actions(self, reply) -> list[str]:
        return [transition.action for transition in REPLY_REVIEW.available(reply.status)]


class FlagOut(serializers.Serializer):
    id = serializers.IntegerField()
    reply_id = serializers.IntegerField()
    topic_id = serializers.IntegerField(source="reply.topic_id")
    reporter = ForumAuthorOut()
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True, help_text="Null while open.")
    resolved_by = ForumAuthorOut(allow_null=True)
    resolution = serializers.CharField(
        help_text="The moderator's action that closed it (`dismiss`, `hide`, ...); empty while "
        "open."
    )


# -- input -----------------------------------------------------------------------------------


class ForumCategoryTextIn(StrictInput):
    """A category's name and description in one locale."""

    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


@extend_schema_field(
    serializers.DictField(
        child=ForumCategoryTextIn(),
        help_text="Locale (one the site has enabled) -> the name and description in it. "
        "Replaces the stored ones.",
    )
)
class LocaleTextsField(serializers.DictField):
    """Texts keyed by the site's enabled locales (another key is a 400 on that key)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=ForumCategoryTextIn(), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        enabled = current_locales()
        unknown = sorted(locale for locale in value if locale not in enabled)
        if unknown:
            raise serializers.ValidationError(
                {
                    locale: [
                        gettext("Not a language of this site (%(locales)s).")
                        % {"locales": ", ".join(enabled)}
                    ]
                    for locale in unknown
                }
            )
        return value


class ForumCategoryCreateIn(StrictInput):
    """A new forum category."""

    name = serializers.CharField(max_length=120, help_text="In the site's default locale.")
    slug = serializers.CharField(
        max_length=120, required=False, allow_blank=True, help_text="Made from the name if empty."
    )
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    translations = LocaleTextsField(required=False)
    colour = serializers.RegexField(
        COLOUR_PATTERN, max_length=7, required=False, help_text="A hex colour such as #3b6ea5."
    )
    icon = serializers.CharField(
        max_length=8, required=False, allow_blank=True, help_text="An emoji shown before the name."
    )
    position = serializers.IntegerField(min_value=0, max_value=MAX_POSITION, required=False)
    parent_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="A top-level category (subcategories go one level deep); null: top level.",
    )
    moderated = serializers.BooleanField(required=False)
    who_may_start = serializers.ChoiceField(choices=WhoMayStart.choices, required=False)


class ForumCategoryUpdateIn(ForumCategoryCreateIn):
    """Fields of a forum category to change; the others keep their value."""

    name = serializers.CharField(max_length=120, required=False)
    slug = serializers.CharField(max_length=120, required=False)


class TopicFieldsIn(StrictInput):
    title = serializers.CharField(max_length=TITLE_MAX)
    body = serializers.CharField(trim_whitespace=False, help_text=BODY_HELP)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        max_length=MAX_TAGS,
        help_text=f"Slugs of the site's tags (at most {MAX_TAGS} with tag_names).",
    )
    tag_names = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        max_length=MAX_TAGS,
        help_text="New tags by name, created if missing (moderators only).",
    )


class TopicCreateIn(TopicFieldsIn):
    """A new topic by the caller (the API key's owner); pending in a moderated category unless
    the caller moderates the forum."""

    category_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    locale = serializers.CharField(
        max_length=16,
        required=False,
        help_text="The language it is written in (one the site has enabled); the site's "
        "default if missing.",
    )
    subscribe = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Email the caller about new replies (off unless asked for).",
    )


class TopicUpdateIn(TopicFieldsIn):
    """Fields of a topic to change (its author within the edit window, or a moderator); the
    previous text goes into its edit history."""

    title = serializers.CharField(max_length=TITLE_MAX, required=False)
    body = serializers.CharField(trim_whitespace=False, required=False, help_text=BODY_HELP)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        max_length=MAX_TAGS,
        help_text="Slugs of the site's tags; replaces the topic's tags.",
    )
    reason = serializers.CharField(
        max_length=REASON_MAX,
        required=False,
        allow_blank=True,
        help_text="Why, when a moderator edits someone else's topic (in its moderation log).",
    )


class ReasonIn(StrictInput):
    """Why (recorded in the topic's moderation log)."""

    reason = serializers.CharField(max_length=REASON_MAX, required=False, allow_blank=True)


class TopicMoveIn(ReasonIn):
    """The category the topic moves to."""

    category_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class TopicSolveIn(StrictInput):
    """The reply that answers the topic (an approved reply of it), or null for none."""

    reply_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, allow_null=True)


class ReplyCreateIn(StrictInput):
    """A reply by the caller (the API key's owner); pending in a moderated category unless the
    caller moderates the forum. A closed, archived or locked topic takes none (409)."""

    topic_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    body = serializers.CharField(trim_whitespace=False, help_text=BODY_HELP)
    quoted_reply_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="An approved reply of the same topic that this one quotes.",
    )


class ReplyUpdateIn(StrictInput):
    """A reply's new body (its author within the edit window, or a moderator); the previous
    one goes into its edit history."""

    body = serializers.CharField(trim_whitespace=False, help_text=BODY_HELP)
    reason = serializers.CharField(
        max_length=REASON_MAX,
        required=False,
        allow_blank=True,
        help_text="Why, when a moderator edits someone else's reply (in its moderation log).",
    )


class FlagIn(StrictInput):
    """A report of the reply (once per member); it enters the moderation queue."""

    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField(max_length=REASON_MAX, required=False, allow_blank=True)
