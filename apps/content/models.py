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
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    # ``name`` and ``description`` are the tenant's default locale's; other locales override them:
    # {"de": {"name": "Neuigkeiten", "description": "Was passiert"}} (see ``services``).
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = gettext_lazy("categories")

    def __str__(self) -> str:
        return self.name

    def name_in(self, locale: str) -> str:
        """The name readers of ``locale`` see: its own, else the default locale's."""
        return (self.translations or {}).get(locale, {}).get("name") or self.name

    def description_in(self, locale: str) -> str:
        return (self.translations or {}).get(locale, {}).get("description") or self.description


class Tag(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    # ``name`` is the tenant's default locale's; other locales override it: {"de": {"name": "Team"}}.
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def name_in(self, locale: str) -> str:
        """The name readers of ``locale`` see: its own, else the default locale's."""
        return (self.translations or {}).get(locale, {}).get("name") or self.name


class Media(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.ImageField(upload_to="media/%Y/%m/", width_field="width", height_field="height")
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # {"en": "A red bicycle", "de": "Ein rotes Fahrrad"}
    alt_text = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
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

    media = models.ForeignKey(Media, on_delete=models.CASCADE, related_name="renditions")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    file = models.FileField(max_length=255)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["media", "width"]
        constraints = [
            models.UniqueConstraint(fields=["media", "width"], name="rendition_media_width_uniq")
        ]

    def __str__(self) -> str:
        """Without its media: the admin lists renditions on a media's delete page, one per line."""
        return gettext("copy %(width)s px wide") % {"width": self.width}


class Node(models.Model):
    """One piece of content: a post, a page, ... (``kind``), in every enabled locale."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.SlugField(max_length=32)
    status = models.CharField(max_length=16, choices=NodeStatus.choices, default=NodeStatus.DRAFT)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="nodes"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="nodes")
    published_at = models.DateTimeField(null=True, blank=True)
    publish_at = models.DateTimeField(
        null=True, blank=True, help_text=gettext_lazy("Scheduled publication (UTC).")
    )
    metadata = models.JSONField(default=dict, blank=True)
    canonical_url = models.URLField(blank=True)
    og_image = models.ForeignKey(
        Media, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
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
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(max_length=16)
    kind = models.SlugField(
        max_length=32,
        help_text=gettext_lazy("Copied from the node: slugs are unique per locale and kind."),
    )
    title = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, allow_unicode=False)
    excerpt = models.TextField(blank=True)
    body = models.TextField(blank=True)
    body_format = models.CharField(
        max_length=16, choices=BodyFormat.choices, default=BodyFormat.MARKDOWN
    )
    body_html = models.TextField(
        blank=True, help_text=gettext_lazy("The body rendered and sanitized.")
    )
    meta_title = models.CharField(max_length=255, blank=True)
    meta_description = models.CharField(max_length=320, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["locale"]
        constraints = [
            models.UniqueConstraint(fields=["node", "locale"], name="translation_node_locale_uniq"),
            models.UniqueConstraint(
                fields=["locale", "kind", "slug"], name="translation_slug_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.locale}]"


class Revision(models.Model):
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    message = models.CharField(max_length=255, blank=True)
    changed = models.JSONField(
        default=list, help_text=gettext_lazy("Names of what changed since the previous revision.")
    )
    snapshot = models.JSONField()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["node", "number"], name="revision_node_number_uniq")
        ]

    def __str__(self) -> str:
        return gettext("revision %(number)s of “%(node)s”") % {
            "number": self.number,
            "node": self.node,
        }
