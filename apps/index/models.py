from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy


class AggregateActivity(models.Model):
    """The latest event of every aggregate of a tenant: a 'recent changes' read model."""

    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    last_event_type = models.CharField(max_length=120)
    last_event_id = models.UUIDField()
    source_version = models.BigIntegerField(null=True)
    last_occurred_at = models.DateTimeField()
    actor_label = models.CharField(max_length=255, blank=True)

    class Meta:
        db_table = "index_aggregate_activity"
        verbose_name_plural = gettext_lazy("aggregate activity")
        ordering = ["-last_occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id"], name="activity_aggregate_uniq"
            ),
        ]
        indexes = [models.Index(fields=["-last_occurred_at"], name="activity_recent_idx")]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} {self.last_event_type}"


class ContentListing(models.Model):
    """A published content node as listings, feeds and search show it: one row per node and locale.

    ``locale`` is a locale the tenant serves; the row holds the node's
    translation in that locale, or its fallback (``content_locale`` says which),
    so that a listing in any locale is one indexed range scan. Written only by
    ``apps.index.handlers`` (content events) and ``rebuild_projections``.
    """

    node_id = models.UUIDField()
    kind = models.CharField(max_length=32)
    locale = models.CharField(max_length=16)
    content_locale = models.CharField(max_length=16)
    title = models.CharField(max_length=255)
    slug = models.CharField(max_length=255)
    excerpt = models.TextField(blank=True)
    body_text = models.TextField(
        blank=True, help_text=gettext_lazy("The body as plain text, for snippets.")
    )
    # No foreign keys: the read side survives (and reports) whatever the write side does.
    author_id = models.BigIntegerField(null=True)
    author_name = models.CharField(max_length=255, blank=True)
    category_id = models.BigIntegerField(null=True)
    category_slug = models.CharField(max_length=120, blank=True)
    category_name = models.CharField(max_length=120, blank=True)
    tag_slugs = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    tag_names = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    # The node's image (its og_image) as cards show it, alt text in the row's language.
    image_id = models.UUIDField(null=True)
    image_url = models.CharField(max_length=500, blank=True)
    image_width = models.PositiveIntegerField(null=True)
    image_height = models.PositiveIntegerField(null=True)
    image_alt = models.CharField(max_length=500, blank=True)
    # Its renditions and the original with their widths, ready for ``srcset`` ("" until made).
    image_srcset = models.TextField(blank=True)
    published_at = models.DateTimeField()
    reading_minutes = models.PositiveIntegerField(default=1)
    search_config = models.CharField(max_length=32, default="simple")
    search_vector = SearchVectorField(null=True)
    source_version = models.BigIntegerField(null=True)
    indexed_at = models.DateTimeField()

    class Meta:
        db_table = "index_content_listing"
        ordering = ["-published_at", "node_id"]
        constraints = [
            models.UniqueConstraint(fields=["node_id", "locale"], name="listing_node_locale_uniq"),
        ]
        indexes = [
            models.Index(fields=["kind", "locale", "-published_at"], name="listing_recent_idx"),
            models.Index(
                fields=["kind", "locale", "category_slug", "-published_at"],
                name="listing_category_idx",
            ),
            models.Index(
                fields=["kind", "locale", "author_id", "-published_at"], name="listing_author_idx"
            ),
            models.Index(fields=["category_id"], name="listing_category_id_idx"),
            models.Index(fields=["image_id"], name="listing_image_id_idx"),
            GinIndex(fields=["tag_slugs"], name="listing_tags_idx"),
            GinIndex(fields=["search_vector"], name="listing_search_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.slug} [{self.locale}]"

    @property
    def tags(self) -> list[tuple[str, str]]:
        """(slug, name) pairs."""
        return list(zip(self.tag_slugs, self.tag_names, strict=False))


class ProductListing(models.Model):
    """An active product as the shop's listings and search show it: one row per product and
    locale the tenant serves.

    Prices are maps of currency to the lowest and highest variant price there (amounts as
    strings, rounded to the currency's minor unit), so one row serves every currency.
    Written only by ``apps.index.handlers`` (commerce events) and ``rebuild_projections``.
    """

    product_id = models.UUIDField()
    locale = models.CharField(max_length=16)
    content_locale = models.CharField(max_length=16)
    title = models.CharField(max_length=255)
    handle = models.CharField(max_length=255)
    status = models.CharField(max_length=16)
    vendor = models.CharField(max_length=255, blank=True)
    product_type = models.CharField(max_length=255, blank=True)
    description_text = models.TextField(blank=True)
    price_min = models.JSONField(default=dict, blank=True)
    price_max = models.JSONField(default=dict, blank=True)
    on_sale = models.BooleanField(default=False)
    in_stock = models.BooleanField(default=False)
    total_available = models.IntegerField(default=0)
    variant_count = models.PositiveIntegerField(default=0)
    option_names = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    # "Name:Value" for every value of every option, in option order.
    option_values = ArrayField(models.CharField(max_length=201), default=list, blank=True)
    # The product's first image, once products have images.
    image_id = models.UUIDField(null=True, blank=True)
    collection_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    collection_handles = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    category_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    category_handles = ArrayField(models.CharField(max_length=120), default=list, blank=True)
    created_at = models.DateTimeField()
    search_config = models.CharField(max_length=32, default="simple")
    search_vector = SearchVectorField(null=True)
    source_version = models.BigIntegerField(null=True)
    indexed_at = models.DateTimeField()

    class Meta:
        db_table = "index_product_listing"
        ordering = ["-created_at", "product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product_id", "locale"], name="product_listing_product_locale_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["locale", "-created_at"], name="product_listing_recent_idx"),
            models.Index(fields=["locale", "title"], name="product_listing_title_idx"),
            GinIndex(fields=["collection_handles"], name="product_listing_coll_idx"),
            GinIndex(fields=["category_handles"], name="product_listing_cat_idx"),
            GinIndex(fields=["collection_ids"], name="product_listing_coll_id_idx"),
            GinIndex(fields=["category_ids"], name="product_listing_cat_id_idx"),
            GinIndex(fields=["option_values"], name="product_listing_options_idx"),
            GinIndex(fields=["search_vector"], name="product_listing_search_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.handle} [{self.locale}]"


class ForumTopicListing(models.Model):
    """A public topic (approved) as the forum's listings, tag pages and search show it, with
    its counters: replies, last activity and last poster. Written only by
    ``apps.index.handlers`` (forum events) and ``rebuild_projections``; never counted per request.
    """

    topic_id = models.BigIntegerField(unique=True)
    category_id = models.BigIntegerField()
    title = models.CharField(max_length=255)
    slug = models.CharField(max_length=255)
    excerpt = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    # The approved replies' text (bounded), so that a search finds a topic by its answers.
    replies_text = models.TextField(blank=True)
    author_id = models.BigIntegerField(null=True)
    author_name = models.CharField(max_length=255, blank=True)
    author_handle = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=16)
    pinned = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    solution_reply_id = models.BigIntegerField(null=True)
    tag_slugs = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    tag_names = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    reply_count = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField()
    last_poster_id = models.BigIntegerField(null=True)
    last_poster_name = models.CharField(max_length=255, blank=True)
    last_reply_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()
    locale = models.CharField(max_length=16)
    search_config = models.CharField(max_length=32, default="simple")
    search_vector = SearchVectorField(null=True)
    source_version = models.BigIntegerField(null=True)
    indexed_at = models.DateTimeField()

    class Meta:
        db_table = "index_forum_topic"
        ordering = ["-pinned", "-last_activity_at", "-topic_id"]
        indexes = [
            models.Index(
                fields=["category_id", "-pinned", "-last_activity_at", "-topic_id"],
                name="forum_topic_category_idx",
            ),
            models.Index(fields=["-last_activity_at", "-topic_id"], name="forum_topic_recent_idx"),
            models.Index(fields=["author_id", "-created_at"], name="forum_topic_author_li_idx"),
            models.Index(fields=["last_poster_id"], name="forum_topic_poster_idx"),
            GinIndex(fields=["tag_slugs"], name="forum_topic_tags_idx"),
            GinIndex(fields=["search_vector"], name="forum_topic_search_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ForumCategoryStats(models.Model):
    """A forum category's counters: its public topics and replies, its last activity."""

    category_id = models.BigIntegerField(unique=True)
    topic_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True)
    last_topic_id = models.BigIntegerField(null=True)
    last_topic_title = models.CharField(max_length=255, blank=True)
    last_topic_slug = models.CharField(max_length=255, blank=True)
    last_poster_id = models.BigIntegerField(null=True)
    last_poster_name = models.CharField(max_length=255, blank=True)
    indexed_at = models.DateTimeField()

    class Meta:
        db_table = "index_forum_category"
        verbose_name_plural = gettext_lazy("forum category statistics")
        indexes = [models.Index(fields=["last_poster_id"], name="forum_category_poster_idx")]

    def __str__(self) -> str:
        return f"forum category {self.category_id}"
