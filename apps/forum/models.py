"""The forum's tables: categories, topics, replies, their edit history, reports, the
moderation log, subscriptions and members' public handles.

Tables and constraints only; every write goes through ``services``. Counters (topics and
replies per category, replies per topic, last activity) are not here: they are projections
in ``apps.index``, kept by the forum's events.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

TITLE_MAX = 200
BODY_MAX = 20_000  # characters of Markdown a topic or a reply may have
REASON_MAX = 500
HANDLE_MAX = 30


class WhoMayStart(models.TextChoices):
    CUSTOMERS = "customers", gettext_lazy("Any signed-in member")
    STAFF = "staff", gettext_lazy("Staff only")


class TopicStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("topic status", "Open")
    CLOSED = "closed", pgettext_lazy("topic status", "Closed")
    ARCHIVED = "archived", pgettext_lazy("topic status", "Archived")


class Review(models.TextChoices):
    """Where a topic or a reply stands with the moderators; only approved posts are public."""

    PENDING = "pending", pgettext_lazy("post review", "Pending")
    APPROVED = "approved", pgettext_lazy("post review", "Approved")
    REJECTED = "rejected", pgettext_lazy("post review", "Rejected")
    HIDDEN = "hidden", pgettext_lazy("post review", "Hidden")


class FlagReason(models.TextChoices):
    SPAM = "spam", gettext_lazy("Spam")
    ABUSE = "abuse", gettext_lazy("Abusive or offensive")
    OFF_TOPIC = "off_topic", gettext_lazy("Off topic")
    OTHER = "other", gettext_lazy("Something else")


class ForumCategory(models.Model):
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=gettext_lazy("parent"),
    )
    name = models.CharField(max_length=120, verbose_name=gettext_lazy("name"))
    slug = models.SlugField(max_length=120, unique=True, verbose_name=gettext_lazy("slug"))
    description = models.TextField(blank=True, verbose_name=gettext_lazy("description"))
    # ``name`` and ``description`` are the tenant's default locale's; other locales override
    # them: {"de": {"name": "Hilfe", "description": "Fragen und Antworten"}}.
    translations = models.JSONField(
        default=dict, blank=True, verbose_name=gettext_lazy("translations")
    )
    colour = models.CharField(
        max_length=7, default="#3b6ea5", verbose_name=gettext_lazy("colour"),
        help_text=gettext_lazy("A hex colour such as #3b6ea5."),
    )  # fmt: skip
    icon = models.CharField(
        max_length=8, blank=True, verbose_name=gettext_lazy("icon"),
        help_text=gettext_lazy("An emoji shown before the name."),
    )  # fmt: skip
    position = models.PositiveIntegerField(default=0, verbose_name=gettext_lazy("position"))
    moderated = models.BooleanField(
        default=False, verbose_name=gettext_lazy("moderated"),
        help_text=gettext_lazy("New topics and replies wait for a moderator's approval."),
    )  # fmt: skip
    who_may_start = models.CharField(
        max_length=16, choices=WhoMayStart.choices, default=WhoMayStart.CUSTOMERS,
        verbose_name=gettext_lazy("who may start topics"),
    )  # fmt: skip
    version = models.PositiveIntegerField(default=1, verbose_name=gettext_lazy("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        ordering = ["position", "name"]
        verbose_name = gettext_lazy("forum category")
        verbose_name_plural = gettext_lazy("forum categories")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="forum_category_colour"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def name_in(self, locale: str) -> str:
        return (self.translations or {}).get(locale, {}).get("name") or self.name

    def description_in(self, locale: str) -> str:
        return (self.translations or {}).get(locale, {}).get("description") or self.description


class Topic(models.Model):
    category = models.ForeignKey(
        ForumCategory,
        on_delete=models.PROTECT,
        related_name="topics",
        verbose_name=gettext_lazy("category"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("author"),
    )
    title = models.CharField(max_length=TITLE_MAX, verbose_name=gettext_lazy("title"))
    slug = models.SlugField(max_length=TITLE_MAX, verbose_name=gettext_lazy("slug"))
    body = models.TextField(verbose_name=gettext_lazy("body"))
    body_html = models.TextField(blank=True, verbose_name=gettext_lazy("body HTML"))
    # Whether its @mentions link to members and email them: the forum_mentions flag's answer
    # for the request that posted it (apps.forum.flags), kept for its edits and its emails.
    mentions = models.BooleanField(default=True, verbose_name=gettext_lazy("mentions"))
    # The language it is written in: its search uses that language's stemming.
    locale = models.CharField(max_length=16, verbose_name=gettext_lazy("language"))
    tags = models.ManyToManyField(
        "content.Tag", blank=True, related_name="forum_topics", verbose_name=gettext_lazy("tags")
    )
    status = models.CharField(
        max_length=16, choices=TopicStatus.choices, default=TopicStatus.OPEN,
        verbose_name=gettext_lazy("status"),
    )  # fmt: skip
    review = models.CharField(
        max_length=16, choices=Review.choices, default=Review.APPROVED,
        verbose_name=gettext_lazy("review"),
    )  # fmt: skip
    pinned = models.BooleanField(default=False, verbose_name=gettext_lazy("pinned"))
    locked = models.BooleanField(default=False, verbose_name=gettext_lazy("locked"))
    solution = models.ForeignKey(
        "Reply",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("solution"),
    )
    # Counted by an UPDATE per view, not by events: a view changes nothing a subscriber needs.
    views_count = models.PositiveBigIntegerField(default=0, verbose_name=gettext_lazy("views"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=gettext_lazy("edited at"))
    version = models.PositiveIntegerField(default=1, verbose_name=gettext_lazy("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = gettext_lazy("topic")
        verbose_name_plural = gettext_lazy("topics")
        indexes = [
            models.Index(fields=["category", "review", "-created_at"], name="forum_topic_cat_idx"),
            models.Index(fields=["author", "-created_at"], name="forum_topic_author_idx"),
            models.Index(
                fields=["review", "created_at"],
                name="forum_topic_pending_idx",
                condition=models.Q(review="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Reply(models.Model):
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="replies", verbose_name=gettext_lazy("topic")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("author"),
    )
    body = models.TextField(verbose_name=gettext_lazy("body"))
    body_html = models.TextField(blank=True, verbose_name=gettext_lazy("body HTML"))
    # Whether its @mentions link to members and email them: the forum_mentions flag's answer
    # for the request that posted it (apps.forum.flags), kept for its edits and its emails.
    mentions = models.BooleanField(default=True, verbose_name=gettext_lazy("mentions"))
    quoted = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("quoted reply"),
    )
    status = models.CharField(
        max_length=16, choices=Review.choices, default=Review.APPROVED,
        verbose_name=gettext_lazy("status"),
    )  # fmt: skip
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=gettext_lazy("edited at"))
    version = models.PositiveIntegerField(default=1, verbose_name=gettext_lazy("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = gettext_lazy("reply")
        verbose_name_plural = gettext_lazy("replies")
        indexes = [
            models.Index(
                fields=["topic", "status", "created_at", "id"], name="forum_reply_topic_idx"
            ),
            models.Index(
                fields=["status", "created_at"],
                name="forum_reply_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["author", "-created_at"], name="forum_reply_author_idx"),
        ]

    def __str__(self) -> str:
        return gettext("reply #%(number)s to “%(topic)s”") % {
            "number": self.pk,
            "topic": self.topic.title if self.topic_id else "",
        }


class Edit(models.Model):
    """One edit of a topic's or a reply's text: what it said before (the edit history)."""

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="edits", verbose_name=gettext_lazy("topic")
    )
    reply = models.ForeignKey(
        Reply,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="edits",
        verbose_name=gettext_lazy("reply"),
    )
    title = models.CharField(max_length=TITLE_MAX, blank=True, verbose_name=gettext_lazy("title"))
    body = models.TextField(verbose_name=gettext_lazy("previous body"))
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("editor"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("edited at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = gettext_lazy("edit")
        verbose_name_plural = gettext_lazy("edit history")

    def __str__(self) -> str:
        return gettext("edit of %(when)s") % {"when": self.created_at}


class Flag(models.Model):
    """A member's report of a reply; open until a moderator resolves it."""

    reply = models.ForeignKey(
        Reply, on_delete=models.CASCADE, related_name="flags", verbose_name=gettext_lazy("reply")
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=gettext_lazy("reported by"),
    )
    reason = models.CharField(
        max_length=16, choices=FlagReason.choices, verbose_name=gettext_lazy("reason")
    )
    note = models.CharField(max_length=REASON_MAX, blank=True, verbose_name=gettext_lazy("note"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("reported at"))
    resolved_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("resolved at")
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("resolved by"),
    )
    resolution = models.CharField(
        max_length=32, blank=True, verbose_name=gettext_lazy("resolution")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = gettext_lazy("report")
        verbose_name_plural = gettext_lazy("reports")
        constraints = [
            models.UniqueConstraint(fields=["reply", "reporter"], name="forum_flag_once_uniq"),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="forum_flag_open_idx",
                condition=models.Q(resolved_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return gettext("report of %(reply)s") % {"reply": self.reply}


class ModerationEntry(models.Model):
    """One moderator's action on a topic or one of its replies: who, what, why, when."""

    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        related_name="moderation_log",
        verbose_name=gettext_lazy("topic"),
    )
    reply = models.ForeignKey(
        Reply,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("reply"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("moderator"),
    )
    # Who it was as the event log records it (a person's id and name, or an API key's name).
    actor_label = models.CharField(max_length=255, blank=True, verbose_name=gettext_lazy("by"))
    action = models.CharField(max_length=32, verbose_name=gettext_lazy("action"))
    reason = models.CharField(
        max_length=REASON_MAX, blank=True, verbose_name=gettext_lazy("reason")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = gettext_lazy("moderation log entry")
        verbose_name_plural = gettext_lazy("moderation log")

    def __str__(self) -> str:
        return f"{self.action} · {self.actor_label}"


class Subscription(models.Model):
    """A member who wants an email for each new reply to a topic."""

    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=gettext_lazy("topic"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=gettext_lazy("member"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("since"))

    class Meta:
        verbose_name = gettext_lazy("subscription")
        verbose_name_plural = gettext_lazy("subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="forum_subscription_uniq"),
        ]

    def __str__(self) -> str:
        return gettext("subscription to “%(topic)s”") % {"topic": self.topic}


class Notice(models.Model):
    """That a member was emailed about a post (mentioned or subscribed): never twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=gettext_lazy("member"),
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="+", verbose_name=gettext_lazy("topic")
    )
    # The reply the email was about; null for the topic's own post.
    reply = models.ForeignKey(
        Reply,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=gettext_lazy("reply"),
    )
    # "mention" or "reply"
    reason = models.CharField(max_length=16, verbose_name=gettext_lazy("reason"))
    sent_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("sent at"))

    class Meta:
        verbose_name = gettext_lazy("notice")
        verbose_name_plural = gettext_lazy("notices")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic", "reply"],
                name="forum_notice_once_uniq",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.topic_id}/{self.reply_id}"


class Member(models.Model):
    """A member's public forum handle, for ``@mentions`` and their page; made on first post."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="forum_member",
        verbose_name=gettext_lazy("user"),
    )
    handle = models.CharField(
        max_length=HANDLE_MAX, unique=True, verbose_name=gettext_lazy("handle")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("since"))

    class Meta:
        verbose_name = gettext_lazy("member")
        verbose_name_plural = gettext_lazy("members")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(handle__regex=r"^[a-z0-9][a-z0-9_-]{1,29}$"),
                name="forum_member_handle_format",
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"


class Moderation(Topic):
    """The moderators' queue in the admin (pending topics and replies, reported replies): a
    page of the forum's admin section with its own entry in the admin index. No table."""

    class Meta:
        proxy = True
        verbose_name = gettext_lazy("moderation queue")
        verbose_name_plural = gettext_lazy("moderation queue")
