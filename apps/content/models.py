"""Content: nodes (of any kind), their translations, categories, tags, media and revisions.

Tables and constraints only; every write goes through ``services``.
"""

import posixpath
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_lazy


class NodeStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("Draft")
    PUBLISHED = "published", gettext_lazy("Published")
    ARCHIVED = "archived", gettext_lazy("Archived")


class BodyFormat(models.TextChoices):
    MARKDOWN = "markdown", gettext_lazy("Markdown")
    HTML = "html", gettext_lazy("HTML")


class Category(models.Model):
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
    position = models.PositiveIntegerField(default=0, verbose_name=gettext_lazy("position"))
    description = models.TextField(blank=True, verbose_name=gettext_lazy("description"))
    # ``name`` and ``description`` are the tenant's default locale's; other locales override them:
    # {"de": {"name": "Neuigkeiten", "description": "Was passiert"}} (see ``services``).
    translations = models.JSONField(
        default=dict, blank=True, verbose_name=gettext_lazy("translations")
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = gettext_lazy("category")
        verbose_name_plural = gettext_lazy("categories")

    def __str__(self) -> str:
        return self.name

    def name_in(self, locale: str) -> str:
        """The name readers of ``locale`` see: its own, else the default locale's."""
        return (self.translations or {}).get(locale, {}).get("name") or self.name

    def description_in(self, locale: str) -> str:
        return (self.translations or {}).get(locale, {}).get("description") or self.description


class Tag(models.Model):
    name = models.CharField(max_length=80, verbose_name=gettext_lazy("name"))
    slug = models.SlugField(max_length=80, unique=True, verbose_name=gettext_lazy("slug"))
    # ``name`` is the tenant's default locale's; other locales override it: {"de": {"name": "Team"}}.
    translations = models.JSONField(
        default=dict, blank=True, verbose_name=gettext_lazy("translations")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = gettext_lazy("tag")
        verbose_name_plural = gettext_lazy("tags")

    def __str__(self) -> str:
        return self.name

    def name_in(self, locale: str) -> str:
        """The name readers of ``locale`` see: its own, else the default locale's."""
        return (self.translations or {}).get(locale, {}).get("name") or self.name


class Media(models.Model):
    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=gettext_lazy("ID")
    )
    file = models.ImageField(
        upload_to="media/%Y/%m/",
        width_field="width",
        height_field="height",
        verbose_name=gettext_lazy("file"),
    )
    content_type = models.CharField(max_length=64, verbose_name=gettext_lazy("content type"))
    size = models.PositiveIntegerField(verbose_name=gettext_lazy("size"))
    width = models.PositiveIntegerField(null=True, blank=True, verbose_name=gettext_lazy("width"))
    height = models.PositiveIntegerField(null=True, blank=True, verbose_name=gettext_lazy("height"))
    # {"en": "A red bicycle", "de": "Ein rotes Fahrrad"}
    alt_text = models.JSONField(default=dict, blank=True, verbose_name=gettext_lazy("alt text"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("uploaded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = gettext_lazy("media")
        verbose_name_plural = gettext_lazy("media")

    def __str__(self) -> str:
        """Its alt text (in the tenant's default locale, else any), else its file's name."""
        from .selectors import current_locales  # (selectors import these models)

        return self.alt(current_locales()[0]) or posixpath.basename(self.file.name or "")

    def alt(self, locale: str) -> str:
        return self.alt_text.get(locale) or next(iter(self.alt_text.values()), "")


class Rendition(models.Model):
    """A resized copy of a media image, for ``srcset``; made by the outbox after the upload.

    One per width smaller than the original (the original serves the largest),
    stored next to the originals in the tenant's media folder.
    """

    media = models.ForeignKey(
        Media,
        on_delete=models.CASCADE,
        related_name="renditions",
        verbose_name=gettext_lazy("media"),
    )
    width = models.PositiveIntegerField(verbose_name=gettext_lazy("width"))
    height = models.PositiveIntegerField(verbose_name=gettext_lazy("height"))
    file = models.FileField(max_length=255, verbose_name=gettext_lazy("file"))
    size = models.PositiveIntegerField(verbose_name=gettext_lazy("size"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))

    class Meta:
        ordering = ["media", "width"]
        verbose_name = gettext_lazy("rendition")
        verbose_name_plural = gettext_lazy("renditions")
        constraints = [
            models.UniqueConstraint(fields=["media", "width"], name="rendition_media_width_uniq")
        ]

    def __str__(self) -> str:
        """Without its media: the admin lists renditions on a media's delete page, one per line."""
        return gettext("copy %(width)s px wide") % {"width": self.width}


class Node(models.Model):
    """One piece of content: a post, a page, ... (``kind``), in every enabled locale."""

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=gettext_lazy("ID")
    )
    kind = models.SlugField(max_length=32, verbose_name=gettext_lazy("kind"))
    status = models.CharField(
        max_length=16,
        choices=NodeStatus.choices,
        default=NodeStatus.DRAFT,
        verbose_name=gettext_lazy("status"),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=gettext_lazy("parent"),
    )
    position = models.PositiveIntegerField(default=0, verbose_name=gettext_lazy("position"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("author"),
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="nodes",
        verbose_name=gettext_lazy("category"),
    )
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="nodes", verbose_name=gettext_lazy("tags")
    )
    published_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("published at")
    )
    publish_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=gettext_lazy("Scheduled publication (UTC)."),
        verbose_name=gettext_lazy("publish at"),
    )
    metadata = models.JSONField(default=dict, blank=True, verbose_name=gettext_lazy("metadata"))
    canonical_url = models.URLField(blank=True, verbose_name=gettext_lazy("canonical URL"))
    og_image = models.ForeignKey(
        Media,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("social image"),
    )
    version = models.PositiveIntegerField(default=1, verbose_name=gettext_lazy("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = gettext_lazy("node")
        verbose_name_plural = gettext_lazy("nodes")
        indexes = [
            models.Index(fields=["kind", "status", "-published_at"], name="node_listing_idx"),
            models.Index(
                fields=["publish_at"],
                name="node_schedule_idx",
                condition=models.Q(publish_at__isnull=False),
            ),
            models.Index(fields=["parent", "position"], name="node_tree_idx"),
        ]

    def __str__(self) -> str:
        """Its title in the tenant's default locale, else in any locale, else "Untitled <kind>".

        Never its id: the admin writes this into its messages and its log (at save time).
        """
        from .selectors import current_locales  # (selectors import these models)

        if self._state.adding:
            titles = {}
        else:
            titles = {t.locale: t.title for t in self.translations.all() if t.title}
        title = titles.get(current_locales()[0]) or next(
            (titles[locale] for locale in sorted(titles)), ""
        )
        return title or gettext("Untitled %(kind)s") % {"kind": self.kind or gettext("item")}


class NodeTranslation(models.Model):
    node = models.ForeignKey(
        Node,
        on_delete=models.CASCADE,
        related_name="translations",
        verbose_name=gettext_lazy("node"),
    )
    locale = models.CharField(max_length=16, verbose_name=gettext_lazy("locale"))
    kind = models.SlugField(
        max_length=32,
        help_text=gettext_lazy("Copied from the node: slugs are unique per locale and kind."),
        verbose_name=gettext_lazy("kind"),
    )
    title = models.CharField(max_length=255, verbose_name=gettext_lazy("title"))
    slug = models.SlugField(max_length=255, allow_unicode=False, verbose_name=gettext_lazy("slug"))
    excerpt = models.TextField(blank=True, verbose_name=gettext_lazy("excerpt"))
    body = models.TextField(blank=True, verbose_name=gettext_lazy("body"))
    body_format = models.CharField(
        max_length=16,
        choices=BodyFormat.choices,
        default=BodyFormat.MARKDOWN,
        verbose_name=gettext_lazy("body format"),
    )
    body_html = models.TextField(
        blank=True,
        help_text=gettext_lazy("The body rendered and sanitized."),
        verbose_name=gettext_lazy("body HTML"),
    )
    meta_title = models.CharField(
        max_length=255, blank=True, verbose_name=gettext_lazy("meta title")
    )
    meta_description = models.CharField(
        max_length=320, blank=True, verbose_name=gettext_lazy("meta description")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        ordering = ["locale"]
        verbose_name = gettext_lazy("node translation")
        verbose_name_plural = gettext_lazy("node translations")
        constraints = [
            models.UniqueConstraint(fields=["node", "locale"], name="translation_node_locale_uniq"),
            models.UniqueConstraint(
                fields=["locale", "kind", "slug"], name="translation_slug_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.locale}]"


class Revision(models.Model):
    node = models.ForeignKey(
        Node, on_delete=models.CASCADE, related_name="revisions", verbose_name=gettext_lazy("node")
    )
    number = models.PositiveIntegerField(verbose_name=gettext_lazy("number"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("author"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    message = models.CharField(max_length=255, blank=True, verbose_name=gettext_lazy("message"))
    changed = models.JSONField(
        default=list,
        help_text=gettext_lazy("Names of what changed since the previous revision."),
        verbose_name=gettext_lazy("changed"),
    )
    snapshot = models.JSONField(verbose_name=gettext_lazy("snapshot"))

    class Meta:
        ordering = ["-number"]
        verbose_name = gettext_lazy("revision")
        verbose_name_plural = gettext_lazy("revisions")
        constraints = [
            models.UniqueConstraint(fields=["node", "number"], name="revision_node_number_uniq")
        ]

    def __str__(self) -> str:
        return gettext("revision %(number)s of “%(node)s”") % {
            "number": self.number,
            "node": self.node,
        }
