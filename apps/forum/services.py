"""Every write of the forum: one transaction, one check against one table, one event.

The status machines are spelled out once each (``TOPIC_STATUS``, ``TOPIC_PIN``,
``TOPIC_LOCK``, ``TOPIC_REVIEW``, ``REPLY_REVIEW``) and taken by one service per kind of
post: ``topic_moderate`` and ``reply_moderate``. The admin, the API and the storefront
derive their actions from ``TOPIC_ACTIONS`` and ``REPLY_REVIEW``. The rules a member meets
(who may start a topic, closed and locked topics, moderated categories, the edit window,
the body size) are checked here, under the row's lock, whoever calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from apps.content import selectors as content_selectors
from apps.content import services as content
from apps.content.rendering import render_markdown, sanitize_html
from apps.core.context import Actor
from apps.core.transitions import Transition, TransitionTable
from apps.events.publisher import publish
from apps.people import selectors as people

from . import events
from .errors import (
    BodyTooLarge,
    FlagNotFound,
    ForumCategoryNotFound,
    ForumConflict,
    ForumInvalid,
    NotAllowed,
    ReplyNotFound,
    TopicClosed,
    TopicNotFound,
)
from .models import (
    BODY_MAX,
    HANDLE_MAX,
    REASON_MAX,
    TITLE_MAX,
    Edit,
    Flag,
    FlagReason,
    ForumCategory,
    Member,
    ModerationEntry,
    Reply,
    Review,
    Subscription,
    Topic,
    TopicStatus,
    WhoMayStart,
)
from .selectors import edit_window_seconds, is_moderator, within_edit_window

MAX_TAGS = 5
MEMBER_PATH = "/forum/u/{handle}/"

# -- the status machines ------------------------------------------------------------------


def _unknown_action(status: str, action: str) -> str:
    return _("There is no action '%(action)s'.") % {"action": action}


STATE_LABELS = {
    **dict(TopicStatus.choices), **dict(Review.choices),
    "pinned": pgettext_lazy("topic state", "pinned"),
    "unpinned": pgettext_lazy("topic state", "not pinned"),
    "locked": pgettext_lazy("topic state", "locked"),
    "unlocked": pgettext_lazy("topic state", "not locked"),
}  # fmt: skip


def _refusal(status: str, transition: Transition) -> str:
    return _("This cannot be done to a post that is %(status)s (%(action)s).") % {
        "status": str(STATE_LABELS.get(status, status)).lower(),
        "action": transition.label,
    }


def _table(rows) -> TransitionTable:
    return TransitionTable(
        [Transition(*row) for row in rows], refusal=_refusal, unknown=_unknown_action
    )


OPEN, CLOSED, ARCHIVED = TopicStatus.OPEN, TopicStatus.CLOSED, TopicStatus.ARCHIVED
PENDING, APPROVED, REJECTED, HIDDEN = (
    Review.PENDING,
    Review.APPROVED,
    Review.REJECTED,
    Review.HIDDEN,
)

# open -> closed -> open; open|closed -> archived -> open.
TOPIC_STATUS = _table([
    ("close", frozenset({OPEN}), CLOSED, events.TopicClosed,
     gettext_lazy("Close"), gettext_lazy("closed")),
    ("reopen", frozenset({CLOSED, ARCHIVED}), OPEN, events.TopicReopened,
     gettext_lazy("Reopen"), gettext_lazy("reopened")),
    ("archive", frozenset({OPEN, CLOSED}), ARCHIVED, events.TopicArchived,
     gettext_lazy("Archive"), gettext_lazy("archived")),
])  # fmt: skip
TOPIC_PIN = _table([
    ("pin", frozenset({"unpinned"}), "pinned", events.TopicPinned,
     gettext_lazy("Pin"), gettext_lazy("pinned")),
    ("unpin", frozenset({"pinned"}), "unpinned", events.TopicUnpinned,
     gettext_lazy("Unpin"), gettext_lazy("unpinned")),
])  # fmt: skip
TOPIC_LOCK = _table([
    ("lock", frozenset({"unlocked"}), "locked", events.TopicLocked,
     gettext_lazy("Lock"), gettext_lazy("locked")),
    ("unlock", frozenset({"locked"}), "unlocked", events.TopicUnlocked,
     gettext_lazy("Unlock"), gettext_lazy("unlocked")),
])  # fmt: skip


def _review_table(approved, rejected, hidden, unhidden) -> TransitionTable:
    """pending -> approved | rejected; rejected -> approved; approved -> hidden -> approved."""
    return _table([
        ("approve", frozenset({PENDING, REJECTED}), APPROVED, approved,
         pgettext_lazy("moderation action", "Approve"), pgettext_lazy("moderation", "approved")),
        ("reject", frozenset({PENDING}), REJECTED, rejected,
         gettext_lazy("Reject"), gettext_lazy("rejected")),
        ("hide", frozenset({APPROVED}), HIDDEN, hidden,
         gettext_lazy("Hide"), gettext_lazy("hidden")),
        ("unhide", frozenset({HIDDEN}), APPROVED, unhidden,
         gettext_lazy("Unhide"), gettext_lazy("shown again")),
    ])  # fmt: skip


TOPIC_REVIEW = _review_table(
    events.TopicApproved, events.TopicRejected, events.TopicHidden, events.TopicUnhidden
)
REPLY_REVIEW = _review_table(
    events.ReplyApproved, events.ReplyRejected, events.ReplyHidden, events.ReplyUnhidden
)


@dataclass(frozen=True)
class TopicMachine:
    """One of a topic's status machines and the field it moves."""

    table: TransitionTable
    read: Callable[[Topic], str]
    write: Callable[[Topic, str], None]
    field: str


def _set(field: str, value_of: Callable[[str], Any]):
    return lambda topic, state: setattr(topic, field, value_of(state))


TOPIC_MACHINES = (
    TopicMachine(TOPIC_STATUS, lambda t: t.status, _set("status", str), "status"),
    TopicMachine(TOPIC_PIN, lambda t: "pinned" if t.pinned else "unpinned",
                 _set("pinned", lambda s: s == "pinned"), "pinned"),
    TopicMachine(TOPIC_LOCK, lambda t: "locked" if t.locked else "unlocked",
                 _set("locked", lambda s: s == "locked"), "locked"),
    TopicMachine(TOPIC_REVIEW, lambda t: t.review, _set("review", str), "review"),
)  # fmt: skip
# Every action a moderator can take on a topic, with its transition (labels for delivery).
TOPIC_ACTIONS: dict[str, Transition] = {
    action: machine.table.by_action[action]
    for machine in TOPIC_MACHINES
    for action in machine.table.actions
}


def _machine(action: str) -> TopicMachine:
    for machine in TOPIC_MACHINES:
        if action in machine.table.by_action:
            return machine
    return TOPIC_MACHINES[0]  # its table words the refusal of an unknown action


# -- small helpers ------------------------------------------------------------------------


def _user(actor):
    """The person behind ``actor`` (a user, or an API key's owner), else None."""
    if getattr(actor, "is_authenticated", False):
        return actor
    return None


def _require_user(actor):
    user = _user(actor)
    if user is None:
        raise NotAllowed(_("Sign in to take part in the forum."))
    return user


def _label(actor) -> str:
    """Who did it, as the moderation log shows it: a person's public name, an API key's name."""
    who = Actor.resolve(actor)
    if who is None:
        return ""
    if who.kind == "user" and getattr(actor, "is_authenticated", False):
        return people.display_name(actor) or _("a moderator")
    return who.label[:255]


def _text(errors: dict[str, str], name: str, value: Any, *, max_length: int) -> str:
    text = ("" if value is None else str(value)).strip()
    if not text:
        errors[name] = _("This field is required.")
    elif len(text) > max_length:
        errors[name] = _("At most %(count)d characters.") % {"count": max_length}
    elif "\x00" in text:
        errors[name] = _("Contains a character that is not allowed.")
    return text


def _body(errors: dict[str, str], value: Any) -> str:
    body = ("" if value is None else str(value)).strip()
    if len(body) > BODY_MAX:
        raise BodyTooLarge(
            {"body": _("At most %(count)d characters (this has %(length)d).")
             % {"count": BODY_MAX, "length": len(body)}}
        )  # fmt: skip
    return _text(errors, "body", body, max_length=BODY_MAX)


def _reason(value: Any) -> str:
    reason = ("" if value is None else str(value)).strip().replace("\x00", "")
    if len(reason) > REASON_MAX:
        raise ForumInvalid({"reason": _("At most %(count)d characters.") % {"count": REASON_MAX}})
    return reason


# -- mentions and handles -------------------------------------------------------------------

MENTION = re.compile(r"(?<![\w@/.])@([a-z0-9][a-z0-9_-]{1,29})\b", re.IGNORECASE)
# Mentions are looked for in the rendered HTML's text, outside links and code: code (spans of
# any number of backticks, fences, indented blocks, <code>) and links show as typed, and a
# mention there (or in a comment, which is not shown) neither links nor notifies.
_TAG = re.compile(r"""(<(?:[^>"']|"[^"]*"|'[^']*')*>)""")
_TAG_NAME = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")
_NO_MENTIONS = frozenset({"a", "code", "pre"})


def _mention_text(html: str) -> list[tuple[str, bool]]:
    """Sanitized ``html`` cut into tags and text, each piece with whether mentions in it count."""
    pieces: list[tuple[str, bool]] = []
    depth = 0
    for index, piece in enumerate(_TAG.split(html)):
        if index % 2 == 0:
            pieces.append((piece, depth == 0))
            continue
        name = _TAG_NAME.match(piece)
        if name is not None and name.group(2).lower() in _NO_MENTIONS:
            depth = max(depth - 1, 0) if name.group(1) else depth + 1
        pieces.append((piece, False))
    return pieces


def _handles_in(pieces: list[tuple[str, bool]]) -> list[str]:
    seen: dict[str, None] = {}
    for piece, counts in pieces:
        if counts:
            for match in MENTION.finditer(piece):
                seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def mentioned_handles(body: str) -> list[str]:
    """The handles ``body`` mentions outside code and links, lower-cased, each once, in order."""
    return _handles_in(_mention_text(render_markdown(body)))


def render_post(body: str, *, mentions: bool = True) -> str:
    """A post's safe HTML: Markdown, mentions of existing members as links (unless
    ``mentions`` is off: then ``@handle`` stays text), sanitized."""
    if not mentions:
        return render_markdown(body)
    pieces = _mention_text(render_markdown(body))
    members = _existing_handles(_handles_in(pieces))
    if not members:
        return "".join(piece for piece, _counts in pieces)

    def link(match: re.Match) -> str:
        handle = match.group(1).lower()
        if handle not in members:
            return match.group(0)
        return f'<a href="{MEMBER_PATH.format(handle=handle)}">@{handle}</a>'

    linked = "".join(MENTION.sub(link, piece) if counts else piece for piece, counts in pieces)
    return sanitize_html(linked)


def _existing_handles(handles: list[str]) -> set[str]:
    if not handles:
        return set()
    return set(Member.objects.filter(handle__in=handles).values_list("handle", flat=True))


def _handle_base(user) -> str:
    name = people.display_name(user) or "member"
    base = slugify(name).replace("_", "-").strip("-")[: HANDLE_MAX - 4] or "member"
    return base if len(base) >= 2 else f"{base}-member"


def member_for(user) -> Member:
    """The member's handle, made from their public name on first use (never from their email)."""
    existing = Member.objects.filter(user=user).first()
    if existing is not None:
        return existing
    base = _handle_base(user)
    taken = set(Member.objects.filter(handle__startswith=base).values_list("handle", flat=True))
    number = 1
    while True:
        handle = base if number == 1 else f"{base}-{number}"
        number += 1
        if handle in taken:
            continue
        try:
            with transaction.atomic():
                return Member.objects.create(user=user, handle=handle)
        except IntegrityError:
            existing = Member.objects.filter(user=user).first()
            if existing is not None:
                return existing


# -- categories ---------------------------------------------------------------------------

CATEGORY_FIELDS = frozenset(
    {"name", "slug", "description", "translations", "colour", "icon", "position", "parent_id",
     "moderated", "who_may_start"}
)  # fmt: skip
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _clean_category(values: Mapping[str, Any], *, category: ForumCategory | None) -> dict:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    unknown = set(values) - CATEGORY_FIELDS
    for name in sorted(unknown):
        errors[name] = _("Unknown field.")
    if "name" in values or category is None:
        cleaned["name"] = _text(errors, "name", values.get("name"), max_length=120)
    if "slug" in values or category is None:
        slug = slugify(str(values.get("slug") or cleaned.get("name") or ""))[:120]
        if not slug:
            errors["slug"] = _("Use letters or digits.")
        elif (
            ForumCategory.objects.filter(slug=slug)
            .exclude(pk=getattr(category, "pk", None))
            .exists()
        ):
            errors["slug"] = _("Another category has this slug.")
        cleaned["slug"] = slug
    if "description" in values:
        description = str(values.get("description") or "").strip()
        if len(description) > 2000:
            errors["description"] = _("At most %(count)d characters.") % {"count": 2000}
        cleaned["description"] = description
    if "translations" in values:
        cleaned["translations"] = _clean_translations(errors, values.get("translations"))
    if "colour" in values:
        colour = str(values.get("colour") or "").strip()
        if not _COLOUR.match(colour):
            errors["colour"] = _("A hex colour such as #3b6ea5.")
        cleaned["colour"] = colour.lower()
    if "icon" in values:
        icon = str(values.get("icon") or "").strip()
        if len(icon) > 8:
            errors["icon"] = _("At most %(count)d characters.") % {"count": 8}
        cleaned["icon"] = icon
    if "position" in values:
        position = values.get("position")
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < 2**31:
            errors["position"] = _("A whole number from 0.")
        cleaned["position"] = position
    if "moderated" in values:
        if not isinstance(values.get("moderated"), bool):
            errors["moderated"] = _("true or false.")
        cleaned["moderated"] = values.get("moderated")
    if "who_may_start" in values:
        if values.get("who_may_start") not in WhoMayStart.values:
            errors["who_may_start"] = _("One of: %(choices)s.") % {
                "choices": ", ".join(WhoMayStart.values)
            }
        cleaned["who_may_start"] = values.get("who_may_start")
    if "parent_id" in values:
        cleaned["parent_id"] = _clean_parent(errors, values.get("parent_id"), category)
    if errors:
        raise ForumInvalid(errors)
    return cleaned


def _clean_translations(errors: dict[str, str], value: Any) -> dict:
    if not isinstance(value, dict):
        errors["translations"] = _("An object of locales.")
        return {}
    cleaned = {}
    for locale, fields in value.items():
        if not isinstance(fields, dict) or set(fields) - {"name", "description"}:
            errors[f"translations.{locale}"] = _("Only a name and a description.")
            continue
        name = str(fields.get("name") or "").strip()
        description = str(fields.get("description") or "").strip()
        if len(name) > 120 or len(description) > 2000:
            errors[f"translations.{locale}"] = _("Too long.")
        cleaned[str(locale)[:16]] = {
            k: v for k, v in (("name", name), ("description", description)) if v
        }
    return cleaned


def _clean_parent(errors, parent_id, category: ForumCategory | None) -> int | None:
    if parent_id in (None, ""):
        return None
    parent = (
        ForumCategory.objects.filter(pk=parent_id).first() if str(parent_id).isdigit() else None
    )
    if parent is None:
        errors["parent_id"] = _("No such category.")
    elif parent.parent_id is not None:
        errors["parent_id"] = _("Subcategories go one level deep: choose a top-level category.")
    elif category is not None and (parent.pk == category.pk or category.children.exists()):
        errors["parent_id"] = _("A category with subcategories cannot become one.")
    return parent.pk if parent else None


def category_create(*, actor=None, **values: Any) -> ForumCategory:
    cleaned = _clean_category(values, category=None)
    with transaction.atomic():
        category = ForumCategory.objects.create(**cleaned)
        publish(
            events.ForumCategoryCreated(category_id=category.pk, version=1, slug=category.slug),
            actor=actor,
        )
    return category


def category_update(*, category_id: int, actor=None, **changes: Any) -> ForumCategory:
    with transaction.atomic():
        category = ForumCategory.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise ForumCategoryNotFound()
        cleaned = _clean_category(changes, category=category)
        changed = sorted(
            name for name, value in cleaned.items() if getattr(category, name) != value
        )
        if not changed:
            return category
        for name in changed:
            setattr(category, name, cleaned[name])
        category.version += 1
        category.save()
        publish(
            events.ForumCategoryUpdated(
                category_id=category.pk, version=category.version, changed=changed
            ),
            actor=actor,
        )
    return category


def category_delete(*, category_id: int, actor=None) -> None:
    """Delete an empty category (no topics, no subcategories)."""
    with transaction.atomic():
        category = ForumCategory.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise ForumCategoryNotFound()
        if category.topics.exists() or category.children.exists():
            raise ForumConflict(
                _("Only an empty category can be deleted: move its topics and subcategories first.")
            )
        slug, version = category.slug, category.version + 1
        category.delete()
        publish(
            events.ForumCategoryDeleted(category_id=category_id, version=version, slug=slug),
            actor=actor,
        )


# -- topics ---------------------------------------------------------------------------------


def _tags(tag_slugs: Iterable[str], tag_names: Iterable[str], *, user, actor) -> list[int]:
    """The ids of the tags named: members choose among the tenant's tags, moderators may add."""
    slugs = [str(slug).strip().lower() for slug in tag_slugs if str(slug).strip()]
    names = [str(name).strip() for name in tag_names if str(name).strip()]
    if len(set(slugs)) + len(set(names)) > MAX_TAGS:
        raise ForumInvalid({"tags": _("At most %(count)d tags.") % {"count": MAX_TAGS}})
    found = {tag.slug: tag.pk for tag in content_selectors.tags().filter(slug__in=slugs)}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise ForumInvalid({"tags": _("No such tag: %(tags)s.") % {"tags": ", ".join(missing)}})
    ids = list(dict.fromkeys(found[slug] for slug in slugs))
    if names:
        if not is_moderator(user):
            raise NotAllowed(_("Only moderators create new tags; choose among the existing ones."))
        for name in names:
            tag = content.tag_get_or_create(name=name, actor=actor)
            if tag.pk not in ids:
                ids.append(tag.pk)
    return ids


def _category_for_topic(category_id: Any, user) -> ForumCategory:
    category = (
        ForumCategory.objects.filter(pk=category_id).first() if str(category_id).isdigit() else None
    )
    if category is None:
        raise ForumCategoryNotFound()
    if category.who_may_start == WhoMayStart.STAFF and not user.is_staff:
        raise NotAllowed(_("Only staff start topics in this category."))
    return category


def topic_start(
    *,
    category_id: int,
    title: str,
    body: str,
    actor,
    locale: str = "en",
    tag_slugs: Iterable[str] = (),
    tag_names: Iterable[str] = (),
    subscribe: bool = True,
    mentions: bool = True,
) -> Topic:
    """A new topic by the signed-in ``actor``; pending in a moderated category (unless a
    moderator starts it). Its author is subscribed to its replies unless ``subscribe`` is off.
    With ``mentions`` off (the ``forum_mentions`` flag's answer, ``apps.forum.flags``) its
    @handles neither link nor notify, now or after an edit."""
    user = _require_user(actor)
    errors: dict[str, str] = {}
    title = _text(errors, "title", title, max_length=TITLE_MAX)
    body = _body(errors, body)
    slug = slugify(title)[:TITLE_MAX] or "topic"
    if errors:
        raise ForumInvalid(errors)
    with transaction.atomic():
        category = _category_for_topic(category_id, user)
        tag_ids = _tags(tag_slugs, tag_names, user=user, actor=actor)
        member_for(user)
        review = PENDING if category.moderated and not is_moderator(user) else APPROVED
        topic = Topic.objects.create(
            category=category, author=user, title=title, slug=slug, body=body,
            body_html=render_post(body, mentions=mentions), mentions=mentions,
            locale=str(locale or "en")[:16], review=review,
        )  # fmt: skip
        topic.tags.set(tag_ids)
        if subscribe:
            Subscription.objects.create(topic=topic, user=user)
        publish(
            events.TopicStarted(
                topic_id=topic.pk, category_id=category.pk, version=1, review=review
            ),
            actor=actor,
        )
    return topic


def _locked_topic(topic_id: Any) -> Topic:
    topic = (
        Topic.objects.select_for_update(of=("self",)).select_related("category")
        .filter(pk=topic_id).first() if str(topic_id).isdigit() else None
    )  # fmt: skip
    if topic is None:
        raise TopicNotFound()
    return topic


def _may_edit(post, user, *, noun: str) -> bool:
    """Whether ``user`` may edit ``post``; moderators always (their edit is logged)."""
    if is_moderator(user):
        return True
    if post.author_id != user.pk:
        raise NotAllowed(_("Only its author or a moderator edits this %(noun)s.") % {"noun": noun})
    if not within_edit_window(post):
        raise NotAllowed(
            _("Posts can be edited for %(minutes)d minutes after posting; this time is over.")
            % {"minutes": edit_window_seconds() // 60}
        )
    return False


def _log(topic: Topic, *, action: str, actor, reason: str = "", reply: Reply | None = None) -> None:
    ModerationEntry.objects.create(
        topic=topic, reply=reply, actor=_user(actor), actor_label=_label(actor),
        action=action, reason=reason,
    )  # fmt: skip


def topic_edit(
    *,
    topic_id: int,
    actor,
    title: str | None = None,
    body: str | None = None,
    tag_slugs: Iterable[str] | None = None,
    tag_names: Iterable[str] = (),
    reason: str = "",
) -> Topic:
    """Change a topic's title, body or tags; the previous text goes into its edit history."""
    user = _require_user(actor)
    errors: dict[str, str] = {}
    new_title = _text(errors, "title", title, max_length=TITLE_MAX) if title is not None else None
    new_body = _body(errors, body) if body is not None else None
    if errors:
        raise ForumInvalid(errors)
    reason = _reason(reason)
    with transaction.atomic():
        topic = _locked_topic(topic_id)
        as_moderator = _may_edit(topic, user, noun=_("topic"))
        changed = []
        before_title, before_body = topic.title, topic.body
        if new_title is not None and new_title != topic.title:
            topic.title, topic.slug = new_title, slugify(new_title)[:TITLE_MAX] or "topic"
            changed.append("title")
        if new_body is not None and new_body != topic.body:
            topic.body = new_body
            topic.body_html = render_post(new_body, mentions=topic.mentions)
            changed.append("body")
        if tag_slugs is not None or tag_names:
            tag_ids = _tags(tag_slugs or (), tag_names, user=user, actor=actor)
            if set(tag_ids) != set(topic.tags.values_list("pk", flat=True)):
                topic.tags.set(tag_ids)
                changed.append("tags")
        if not changed:
            return topic
        if {"title", "body"} & set(changed):
            Edit.objects.create(topic=topic, title=before_title, body=before_body, editor=user)
            topic.edited_at = timezone.now()
        topic.version += 1
        topic.save()
        if as_moderator and topic.author_id != user.pk:
            _log(topic, action="edit", actor=actor, reason=reason)
        publish(
            events.TopicEdited(
                topic_id=topic.pk, category_id=topic.category_id, version=topic.version,
                changed=changed,
            ),
            actor=actor,
        )  # fmt: skip
    return topic


def topic_moderate(*, topic_id: int, action: str, actor, reason: str = "") -> Topic:
    """Take ``action`` of ``TOPIC_ACTIONS`` on a topic, checked under its lock and logged."""
    reason = _reason(reason)
    machine = _machine(action)
    with transaction.atomic():
        topic = _locked_topic(topic_id)
        before = machine.read(topic)
        transition = machine.table.check(before, action)
        machine.write(topic, transition.target)
        topic.version += 1
        topic.save()
        _log(topic, action=action, actor=actor, reason=reason)
        publish(
            transition.event(
                topic_id=topic.pk, category_id=topic.category_id, version=topic.version,
                from_status=before, to_status=transition.target,
            ),
            actor=actor,
        )  # fmt: skip
    return topic


def topic_move(*, topic_id: int, category_id: int, actor, reason: str = "") -> Topic:
    reason = _reason(reason)
    with transaction.atomic():
        topic = _locked_topic(topic_id)
        target = ForumCategory.objects.filter(pk=category_id).first()
        if target is None:
            raise ForumCategoryNotFound()
        if target.pk == topic.category_id:
            raise ForumConflict(_("The topic is already in this category."))
        previous = topic.category_id
        topic.category = target
        topic.version += 1
        topic.save()
        _log(topic, action="move", actor=actor, reason=reason or f"→ {target.name}")
        publish(
            events.TopicMoved(
                topic_id=topic.pk, category_id=target.pk, version=topic.version,
                from_category_id=previous,
            ),
            actor=actor,
        )  # fmt: skip
    return topic


def topic_mark_solved(*, topic_id: int, reply_id: int | None, actor) -> Topic:
    """Mark ``reply_id`` as the topic's answer (None: no answer); its author or a moderator."""
    user = _require_user(actor)
    with transaction.atomic():
        topic = _locked_topic(topic_id)
        if topic.author_id != user.pk and not is_moderator(user):
            raise NotAllowed(_("Only the topic's author or a moderator marks the answer."))
        if reply_id is None:
            if topic.solution_id is None:
                raise ForumConflict(_("The topic has no answer marked."))
            topic.solution = None
            event = events.TopicUnsolved
            extra = {}
        else:
            reply = Reply.objects.filter(pk=reply_id, topic=topic, status=APPROVED).first()
            if reply is None:
                raise ReplyNotFound()
            if topic.solution_id == reply.pk:
                raise ForumConflict(_("This reply is already the answer."))
            topic.solution = reply
            event = events.TopicSolved
            extra = {"reply_id": reply.pk}
        topic.version += 1
        topic.save()
        publish(
            event(topic_id=topic.pk, category_id=topic.category_id, version=topic.version, **extra),
            actor=actor,
        )
    return topic


def topic_views_add(*, counts: Mapping[int, int]) -> int:
    """Add buffered page views to topics (``{topic_id: views}``); returns the topics updated."""
    if not counts:
        return 0
    added = Case(
        *(When(pk=int(topic_id), then=Value(int(views))) for topic_id, views in counts.items()),
        default=Value(0),
    )
    # One UPDATE for the lot (a topic deleted meanwhile is simply not there).
    return Topic.objects.filter(pk__in=[int(topic_id) for topic_id in counts]).update(
        views_count=F("views_count") + added
    )


# -- replies ---------------------------------------------------------------------------------


def reply_post(
    *,
    topic_id: int,
    body: str,
    actor,
    quoted_reply_id: int | None = None,
    mentions: bool = True,
) -> Reply:
    """A reply by the signed-in ``actor``. A closed, archived or locked topic takes none (409);
    in a moderated category it waits for approval, seen only by its author and moderators.
    ``mentions`` as for ``topic_start``."""
    user = _require_user(actor)
    errors: dict[str, str] = {}
    body = _body(errors, body)
    if errors:
        raise ForumInvalid(errors)
    with transaction.atomic():
        topic = _locked_topic(topic_id)
        moderator = is_moderator(user)
        if topic.review != APPROVED and not (moderator or topic.author_id == user.pk):
            raise TopicNotFound()
        if topic.locked and not moderator:
            raise TopicClosed(_("This topic is locked: it takes no new replies."))
        if topic.status == CLOSED and not moderator:
            raise TopicClosed(_("This topic is closed: it takes no new replies."))
        if topic.status == ARCHIVED and not moderator:
            raise TopicClosed(_("This topic is archived: it takes no new replies."))
        quoted = None
        if quoted_reply_id is not None:
            quoted = Reply.objects.filter(
                pk=quoted_reply_id if str(quoted_reply_id).isdigit() else 0,
                topic=topic, status=APPROVED,
            ).first()  # fmt: skip
            if quoted is None:
                raise ForumInvalid({"quoted_reply_id": _("No such reply in this topic.")})
        member_for(user)
        status = PENDING if topic.category.moderated and not moderator else APPROVED
        reply = Reply.objects.create(
            topic=topic, author=user, body=body, body_html=render_post(body, mentions=mentions),
            mentions=mentions, quoted=quoted, status=status,
        )  # fmt: skip
        publish(
            events.ReplyPosted(
                reply_id=reply.pk, topic_id=topic.pk, category_id=topic.category_id, version=1,
                status=status, quoted_reply_id=quoted.pk if quoted else None,
            ),
            actor=actor,
        )  # fmt: skip
    return reply


def _locked_reply(reply_id: Any) -> Reply:
    reply = (
        Reply.objects.select_for_update(of=("self",)).select_related("topic")
        .filter(pk=reply_id).first() if str(reply_id).isdigit() else None
    )  # fmt: skip
    if reply is None:
        raise ReplyNotFound()
    return reply


def reply_edit(*, reply_id: int, body: str, actor, reason: str = "") -> Reply:
    user = _require_user(actor)
    errors: dict[str, str] = {}
    body = _body(errors, body)
    if errors:
        raise ForumInvalid(errors)
    reason = _reason(reason)
    with transaction.atomic():
        reply = _locked_reply(reply_id)
        as_moderator = _may_edit(reply, user, noun=_("reply"))
        if body == reply.body:
            return reply
        Edit.objects.create(topic_id=reply.topic_id, reply=reply, body=reply.body, editor=user)
        reply.body, reply.body_html = body, render_post(body, mentions=reply.mentions)
        reply.edited_at = timezone.now()
        reply.version += 1
        reply.save()
        if as_moderator and reply.author_id != user.pk:
            _log(reply.topic, action="edit", actor=actor, reason=reason, reply=reply)
        publish(
            events.ReplyEdited(
                reply_id=reply.pk, topic_id=reply.topic_id,
                category_id=reply.topic.category_id, version=reply.version,
            ),
            actor=actor,
        )  # fmt: skip
    return reply


def _resolve_flags(reply: Reply, *, resolution: str, actor) -> int:
    resolved = Flag.objects.filter(reply=reply, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=_user(actor), resolution=resolution
    )
    if resolved:
        publish(
            events.ReplyFlagsResolved(
                reply_id=reply.pk, topic_id=reply.topic_id, category_id=reply.topic.category_id,
                version=reply.version, resolution=resolution,
            ),
            actor=actor,
        )  # fmt: skip
    return resolved


def reply_moderate(*, reply_id: int, action: str, actor, reason: str = "") -> Reply:
    """Take ``action`` of ``REPLY_REVIEW`` on a reply, checked under its lock and logged;
    its open reports are resolved by it."""
    reason = _reason(reason)
    with transaction.atomic():
        # Its topic first, then the reply (the order of ``topic_mark_solved`` and
        # ``reply_post``): the topic's answer is read under the topic's lock.
        topic_id = (
            Reply.objects.filter(pk=reply_id).values_list("topic_id", flat=True).first()
            if str(reply_id).isdigit() else None
        )  # fmt: skip
        if topic_id is None:
            raise ReplyNotFound()
        topic = _locked_topic(topic_id)
        reply = _locked_reply(reply_id)
        transition = REPLY_REVIEW.check(reply.status, action)
        before, reply.status = reply.status, transition.target
        reply.version += 1
        reply.save()
        _log(topic, action=action, actor=actor, reason=reason, reply=reply)
        publish(
            transition.event(
                reply_id=reply.pk, topic_id=topic.pk, category_id=topic.category_id,
                version=reply.version, from_status=before, to_status=transition.target,
            ),
            actor=actor,
        )  # fmt: skip
        if topic.solution_id == reply.pk and transition.target != APPROVED:
            # An answer no one may see is no answer: the topic changes, and says so.
            topic.solution = None
            topic.version += 1
            topic.save()
            publish(
                events.TopicUnsolved(
                    topic_id=topic.pk, category_id=topic.category_id, version=topic.version
                ),
                actor=actor,
            )
        _resolve_flags(reply, resolution=action, actor=actor)
    return reply


def reply_flag(*, reply_id: int, reason: str, actor, note: str = "") -> Flag:
    """A signed-in member reports a reply (once each); it enters the moderation queue."""
    user = _require_user(actor)
    if reason not in FlagReason.values:
        raise ForumInvalid(
            {"reason": _("One of: %(choices)s.") % {"choices": ", ".join(FlagReason.values)}}
        )
    note = _reason(note)
    with transaction.atomic():
        reply = _locked_reply(reply_id)
        if reply.status != APPROVED:
            raise ReplyNotFound()
        if reply.author_id == user.pk:
            raise ForumConflict(_("You cannot report your own reply."))
        flag, created = Flag.objects.get_or_create(
            reply=reply, reporter=user, defaults={"reason": reason, "note": note}
        )
        if not created:
            raise ForumConflict(_("You have already reported this reply."))
        publish(
            events.ReplyFlagged(
                reply_id=reply.pk, topic_id=reply.topic_id, category_id=reply.topic.category_id,
                version=reply.version, flag_id=flag.pk, reason=reason,
            ),
            actor=actor,
        )  # fmt: skip
    return flag


def reply_flags_dismiss(*, reply_id: int, actor, reason: str = "") -> int:
    """A moderator keeps a reported reply as it is: its open reports are closed as dismissed."""
    reason = _reason(reason)
    with transaction.atomic():
        reply = _locked_reply(reply_id)
        resolved = _resolve_flags(reply, resolution="dismiss", actor=actor)
        if not resolved:
            raise FlagNotFound(_("This reply has no open report."))
        _log(reply.topic, action="dismiss", actor=actor, reason=reason, reply=reply)
    return resolved


# -- subscriptions ---------------------------------------------------------------------------


def topic_subscribe(*, topic_id: int, actor) -> bool:
    """Subscribe the member to the topic's replies; whether they were not already."""
    user = _require_user(actor)
    if not Topic.objects.filter(pk=topic_id).exists():
        raise TopicNotFound()
    _, created = Subscription.objects.get_or_create(topic_id=topic_id, user=user)
    return created


def topic_unsubscribe(*, topic_id: int, user_id: int) -> bool:
    """End a subscription (from the account or an email's link); whether there was one."""
    deleted, _ = Subscription.objects.filter(topic_id=topic_id, user_id=user_id).delete()
    return bool(deleted)
