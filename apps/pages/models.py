"""Pages: the layout (typed blocks, template, home flag) of content nodes of kind "page", and menus.

Tables and constraints only; every write goes through ``services``.
"""

from django.db import models
from django.utils.translation import gettext, gettext_lazy

from apps.content.kinds import PAGE_KIND, Page

__all__ = ["PAGE_KIND", "Menu", "MenuItem", "Page", "PageLayout", "PageTemplate"]


class PageTemplate(models.TextChoices):
    DEFAULT = "default", gettext_lazy("Default")
    LANDING = "landing", gettext_lazy("Landing (full width, no title)")
    SIDEBAR = "sidebar", gettext_lazy("With a sidebar of related pages")


# How a layout's template reads next to its page's title.
TEMPLATE_SHORT_NAMES = {
    PageTemplate.DEFAULT: gettext_lazy("default"),
    PageTemplate.LANDING: gettext_lazy("landing"),
    PageTemplate.SIDEBAR: gettext_lazy("sidebar"),
}


class PageLayout(models.Model):
    """The body of a page as typed blocks, per locale, and how the page is laid out."""

    node = models.OneToOneField(
        "content.Node",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="page_layout",
        limit_choices_to={"kind": PAGE_KIND},
    )
    template = models.CharField(
        max_length=32, choices=PageTemplate.choices, default=PageTemplate.DEFAULT
    )
    is_home = models.BooleanField(
        default=False, help_text=gettext_lazy("Served at the site's root, '/'.")
    )
    # {"en": [{"type": "hero", ...}, ...], "de": [...]}, validated by apps.pages.blocks
    blocks = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_home"], condition=models.Q(is_home=True), name="pages_one_home"
            ),
        ]

    def __str__(self) -> str:
        """Its page's title and its template, e.g. "About us (sidebar)"; never an id.

        The admin writes this into its titles, breadcrumbs, messages and log.
        """
        return gettext("%(page)s (%(template)s)") % {
            "page": str(self.node) if self.node_id else gettext("Untitled page"),
            "template": TEMPLATE_SHORT_NAMES.get(self.template, self.template),
        }


class Menu(models.Model):
    """A named navigation menu (``header``, ``footer``, ...)."""

    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class MenuItem(models.Model):
    """One entry of a menu: a page or a URL, with a label per locale; items nest."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)
    # {"en": "About us", "de": "Über uns"}; empty: the page's title
    label = models.JSONField(default=dict, blank=True)
    page = models.ForeignKey(
        "content.Node",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": PAGE_KIND},
    )
    url = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["menu", "parent_id", "position", "id"]
        indexes = [models.Index(fields=["menu", "parent", "position"], name="menuitem_tree_idx")]

    def __str__(self) -> str:
        return next(iter(self.label.values()), "") or self.url or f"item {self.pk}"
