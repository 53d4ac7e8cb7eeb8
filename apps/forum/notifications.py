"""The forum's emails: a member mentioned in a post, a subscriber told of a topic's new reply.

Run by the outbox handler (``handlers``) once a post is public, so a rolled-back post, a
pending one, a rejected or a hidden one notifies nobody. Each email is sent once, never at
least once: a ``Notice`` row (unique per member, topic and reply) is written for it in the
relay's transaction, with the handler's ledger entry, and the message goes only after that
commits. A replayed event, an approval after a hide and an edit find the row and send
nothing again; a send that fails after the commit is logged, never retried into a second
email. Never to the post's author or an inactive member; a member who is both subscribed
and mentioned gets one email, the mention. A post written with mentions off (the
``forum_mentions`` flag, ``apps.forum.flags``) mentions nobody. No login email is ever written into a message:
people are named by their display names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from apps.content.rendering import plain_text
from apps.core.locale import LOCALE_PARAM
from apps.people import selectors as people
from apps.tenancy.selectors import site_url, tenant_by_schema

from . import selectors
from .models import Notice, Reply, Review, Topic
from .services import mentioned_handles

logger = logging.getLogger(__name__)

MENTION, REPLY = "mention", "reply"
TEMPLATES = {MENTION: "email/forum/mention", REPLY: "email/forum/reply"}
REPLY_PATH = "/forum/r/{reply_id}/"
TOPIC_PATH = "/forum/t/{topic_id}/{slug}/"
EXCERPT_WORDS = 60


@dataclass(frozen=True)
class Post:
    """A public topic's own post (``reply`` None) or one of its public replies."""

    topic: Topic
    reply: Reply | None

    @property
    def author(self):
        return (self.reply or self.topic).author

    @property
    def author_id(self) -> int | None:
        return (self.reply or self.topic).author_id

    @property
    def body(self) -> str:
        return (self.reply or self.topic).body

    @property
    def body_html(self) -> str:
        return (self.reply or self.topic).body_html

    @property
    def mentions(self) -> bool:
        """Whether its mentions count (the ``forum_mentions`` flag when it was posted)."""
        return (self.reply or self.topic).mentions

    @property
    def path(self) -> str:
        if self.reply is not None:
            return REPLY_PATH.format(reply_id=self.reply.pk)
        return TOPIC_PATH.format(topic_id=self.topic.pk, slug=self.topic.slug)


def _public_post(topic_id: int, reply_id: int | None) -> Post | None:
    """The post, if everyone may read it now: an approved reply of an approved topic."""
    topic = (
        Topic.objects.select_related("author__profile")
        .filter(pk=topic_id, review=Review.APPROVED)
        .first()
    )
    if topic is None:
        return None
    if reply_id is None:
        return Post(topic, None)
    reply = (
        Reply.objects.select_related("author__profile")
        .filter(pk=reply_id, topic_id=topic_id, status=Review.APPROVED)
        .first()
    )
    return Post(topic, reply) if reply is not None else None


def _recipients(post: Post, *, subscribers: bool) -> dict[int, str]:
    """Who should hear of ``post`` and why: ``{user_id: MENTION | REPLY}``."""
    wanted: dict[int, str] = {}
    if subscribers and post.reply is not None:
        for user_id in selectors.subscribers(post.topic.pk).values_list("user_id", flat=True):
            wanted[user_id] = REPLY
    mentioned = mentioned_handles(post.body) if post.mentions else []
    for member in selectors.members_by_handles(mentioned).values():
        wanted[member.user_id] = MENTION  # the mention wins: one email, the more personal one
    wanted.pop(post.author_id, None)
    return wanted


def _record(post: Post, wanted: dict[int, str]) -> dict[int, str]:
    """Write a ``Notice`` for each active member of ``wanted`` not told of ``post`` before;
    returns those written (whom to email), in this transaction."""
    active = get_user_model().objects.filter(pk__in=list(wanted), is_active=True).exclude(email="")
    user_ids = sorted(active.values_list("pk", flat=True))
    if not user_ids:
        return {}
    reasons = [wanted[user_id] for user_id in user_ids]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notice._meta.db_table} (user_id, topic_id, reply_id, reason, sent_at) "  # noqa: S608 (constant table name)
            "SELECT u, %s, %s, r, now() FROM unnest(%s::bigint[], %s::text[]) AS t(u, r) "
            "ON CONFLICT DO NOTHING RETURNING user_id, reason",
            [post.topic.pk, post.reply.pk if post.reply else None, user_ids, reasons],
        )
        return dict(cursor.fetchall())


def post_notify(*, topic_id: int, reply_id: int | None = None, subscribers: bool) -> int:
    """Email the members who should hear of a post that is public now: those it mentions,
    and with ``subscribers`` (a reply made public) the topic's subscribers; each member once
    per post whatever runs this again. Returns how many emails will go after the commit."""
    with transaction.atomic():
        post = _public_post(topic_id, reply_id)
        if post is None:
            return 0
        wanted = _recipients(post, subscribers=subscribers)
        if not wanted:
            return 0
        recorded = _record(post, wanted)
        if not recorded:
            return 0
        messages = _messages(post, recorded)
        transaction.on_commit(lambda: _deliver(messages), robust=True)
    return len(messages)


# -- the messages --------------------------------------------------------------------------


def _from_address(site_name: str) -> str:
    """The platform's sender address under the site's name."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((site_name or name, address))


def _with_locale(path: str, locale: str, default: str) -> str:
    """``path`` in ``locale``: the URL names the language unless it is the site's default."""
    return path if locale == default else f"{path}?{urlencode({LOCALE_PARAM: locale})}"


def _excerpt(post: Post) -> str:
    words = plain_text(post.body_html).split()
    if len(words) <= EXCERPT_WORDS:
        return " ".join(words)
    return " ".join(words[:EXCERPT_WORDS]) + "\u2026"


def _messages(post: Post, recorded: dict[int, str]) -> list[EmailMultiAlternatives]:
    tenant = tenant_by_schema(connection.schema_name)
    site_name = tenant.name if tenant else ""
    default = tenant.default_locale if tenant else settings.LANGUAGE_CODE
    enabled = tuple(tenant.locales) if tenant else (default,)
    users = get_user_model().objects.filter(pk__in=list(recorded)).select_related(people.PROFILE)
    known = selectors.member_locales(recorded)
    root = site_url("")
    excerpt = _excerpt(post)
    sender = _from_address(site_name)
    messages = []
    for user in sorted(users, key=lambda user: user.pk):
        locale = known.get(user.pk) if known.get(user.pk) in enabled else default
        reason = recorded[user.pk]
        unsubscribe = ""
        if reason == REPLY:
            token = selectors.unsubscribe_token(user_id=user.pk, topic_id=post.topic.pk)
            path = selectors.UNSUBSCRIBE_PATH.format(token=token)
            unsubscribe = root + _with_locale(path, locale, default)
        with translation.override(locale):
            context = {
                "recipient_name": people.display_name(user),
                "author_name": people.display_name(post.author) or _("A member"),
                "topic_title": post.topic.title,
                "in_reply": post.reply is not None,
                "excerpt": excerpt,
                "post_url": root + _with_locale(post.path, locale, default),
                "unsubscribe_url": unsubscribe,
                "site_name": site_name,
            }
            template = TEMPLATES[reason]
            subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
            text = render_to_string(f"{template}.txt", context)
            html = render_to_string(f"{template}.html", context)
        headers = {"List-Unsubscribe": f"<{unsubscribe}>"} if unsubscribe else {}
        message = EmailMultiAlternatives(subject, text, sender, [user.email], headers=headers)
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return messages


def _deliver(messages: list[EmailMultiAlternatives]) -> None:
    """Send each message over one connection; one that fails is logged, the others go."""
    with get_connection() as mail:
        for message in messages:
            message.connection = mail
            try:
                message.send()
            except Exception:
                logger.exception("a forum notification to a member could not be sent")
