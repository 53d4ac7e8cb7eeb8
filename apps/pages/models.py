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
        verbose_name=gettext_lazy("node"),
    )
    template = models.CharField(
        max_length=32,
        choices=PageTemplate.choices,
        default=PageTemplate.DEFAULT,
        verbose_name=gettext_lazy("template"),
    )
    is_home = models.BooleanField(
        default=False,
        help_text=gettext_lazy("Served at the site's root, '/'."),
        verbose_name=gettext_lazy("is home"),
    )
    # {"en": [{"type": "hero", ...}, ...], "de": [...]}, validated by apps.pages.blocks
    blocks = models.JSONField(default=dict, blank=True, verbose_name=gettext_lazy("blocks"))
    version = models.PositiveIntegerField(default=1, verbose_name=gettext_lazy("version"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        verbose_name = gettext_lazy("page layout")
        verbose_name_plural = gettext_lazy("page layouts")
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

    slug = models.SlugField(max_length=32, unique=True, verbose_name=gettext_lazy("slug"))
    name = models.CharField(max_length=120, verbose_name=gettext_lazy("name"))
    version = models.PositiveIntegerField(default=1, verbose_name=gettext_lazy("version"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        ordering = ["slug"]
        verbose_name = gettext_lazy("menu")
        verbose_name_plural = gettext_lazy("menus")

    def __str__(self) -> str:
        return self.name


class MenuItem(models.Model):
    """One entry of a menu: a page or a URL, with a label per locale; items nest."""

    menu = models.ForeignKey(
        Menu, on_delete=models.CASCADE, related_name="items", verbose_name=gettext_lazy("menu")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        verbose_name=gettext_lazy("parent"),
    )
    position = models.PositiveIntegerField(default=0, verbose_name=gettext_lazy("position"))
    # {"en": "About us", "de": "Über uns"}; empty: the page's title
    label = models.JSONField(default=dict, blank=True, verbose_name=gettext_lazy("label"))
    page = models.ForeignKey(
        "content.Node",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": PAGE_KIND},
        verbose_name=gettext_lazy("page"),
    )
    url = models.CharField(max_length=500, blank=True, verbose_name=gettext_lazy("URL"))

    class Meta:
        ordering = ["menu", "parent_id", "position", "id"]
        verbose_name = gettext_lazy("menu item")
        verbose_name_plural = gettext_lazy("menu items")
        indexes = [models.Index(fields=["menu", "parent", "position"], name="menuitem_tree_idx")]

    def __str__(self) -> str:
        return next(iter(self.label.values()), "") or self.url or f"item {self.pk}"
