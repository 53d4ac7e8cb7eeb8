"""Editors' admin of what pages own: page layouts (blocks, template, home) and menus.

Thin delivery code: forms validate with the services' own checks (so an error
shows on the field it concerns), and every write goes through ``services``;
the admin's ORM writes (``form.save()``, ``formset.save()``, ``delete()``) are
never called. The page itself (title, slug, parent, status) is edited under
"Pages": content's node admin for kind "page", writing through the pages'
services, so a page's parent is a page and root slugs stay free.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from apps.content.admin.nodes import NodeAdmin
from apps.content.selectors import current_locales
from apps.content.services import NodeInput
from apps.core.admin import ServiceAdmin

from . import selectors, services
from .errors import PagesInvalid
from .models import Menu, MenuItem, Page, PageLayout, PageTemplate

BLOCKS_HELP = gettext_lazy(
    'A JSON object: a list of blocks per locale, e.g. {"en": [{"type": "hero", "title": '
    '"Welcome", "cta_label": "Read more", "cta_url": "/about/"}, {"type": "rich_text", '
    '"format": "markdown", "body": "Some **text**"}]}. Block types: hero, rich_text, image, '
    "gallery, call_to_action, faq, embed_html, product_grid. A product_grid shows the shop's "
    'active products of one source: {"type": "product_grid", "title": "Featured", '
    '"collection": "summer"} (a collection\'s handle), "category": "tents" (a category\'s '
    'handle) or "handles": ["red-tent", "blue-mug"] (at most 24 products, in that order); '
    '"count": how many, 1 to 24.'
)


def _page_title(node) -> str:
    default = current_locales()[0]
    return selectors.title_in(node, default, default) or str(node)


class PageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _page_title(obj)


def _item_label(item: MenuItem) -> str:
    default = current_locales()[0]
    label = item.label or {}
    text = label.get(default) or next(iter(label.values()), "")
    if not text and item.page is not None:
        text = _page_title(item.page)
    return text or item.url or f"item {item.pk}"


class MenuItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _item_label(obj)


# -- pages ---------------------------------------------------------------------


@admin.register(Page)
class PageAdmin(NodeAdmin):
    """Pages: their node fields, translations, status and place in the page tree."""

    kind = services.PAGE_KIND
    main_fields = ("parent", "position")
    autocomplete_fields = ["og_image"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":  # a page's parent is a page
            kwargs["queryset"] = selectors.page_nodes()
            kwargs["form_class"] = PageChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create_node(self, request, data: NodeInput):
        layout = services.page_create(
            data=services.PageInput(
                translations=data.translations,
                parent_id=data.parent_id,
                position=data.position,
                template=PageTemplate.DEFAULT,
                metadata=data.metadata,
                publish_at=data.publish_at,
            ),
            actor=request.user,
        )
        return layout.node

    def patch_node(self, request, node_id, *, fields, translations, delete_locales) -> None:
        services.page_update(
            node_id=node_id,
            fields=fields,
            translations=translations,
            delete_locales=delete_locales,
            actor=request.user,
        )

    def transition_node(self, request, node_id, action: str) -> None:
        services.page_transition(node_id=node_id, action=action, actor=request.user)

    def schedule_node(self, request, node_id, publish_at: datetime | None) -> None:
        services.page_schedule(node_id=node_id, publish_at=publish_at, actor=request.user)

    def delete_node(self, request, node_id) -> None:
        services.page_delete(node_id=node_id, actor=request.user)


# -- page layouts -----------------------------------------------------------------


class PageLayoutForm(forms.ModelForm):
    node = PageChoiceField(queryset=selectors.page_nodes(), label=gettext_lazy("Page"))
    blocks = forms.JSONField(
        required=False,
        initial=dict,
        help_text=BLOCKS_HELP,
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
    )

    class Meta:
        model = PageLayout
        fields = ["node", "template", "is_home", "blocks"]

    def clean_blocks(self) -> dict[str, Any]:
        blocks = self.cleaned_data.get("blocks") or {}
        try:
            return services.clean_blocks(blocks)
        except PagesInvalid as invalid:
            raise forms.ValidationError(
                [f"{name}: {message}" for name, message in invalid.errors.items()]
            ) from None

    def clean_node(self):
        node = self.cleaned_data["node"]
        if self.instance.pk is None and PageLayout.objects.filter(node=node).exists():
            raise forms.ValidationError(gettext("This page already has a layout."))
        return node


@admin.register(PageLayout)
class PageLayoutAdmin(ServiceAdmin):
    form = PageLayoutForm
    list_display = ["page_title", "template", "is_home", "block_count", "version", "updated_at"]
    list_display_links = ["page_title"]
    list_filter = ["template", "is_home"]
    search_fields = ["node__translations__title", "node__translations__slug"]
    readonly_fields = ["version", "updated_at", "links"]
    ordering = ["-updated_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("node")
            .prefetch_related("node__translations")
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "node"] if obj is not None else fields

    @admin.display(description=gettext_lazy("Page"), ordering="node__created_at")
    def page_title(self, obj: PageLayout) -> str:
        return _page_title(obj.node)

    @admin.display(description=gettext_lazy("Blocks"))
    def block_count(self, obj: PageLayout) -> int:
        return sum(len(blocks) for blocks in (obj.blocks or {}).values())

    @admin.display(description=gettext_lazy("Links"))
    def links(self, obj: PageLayout):
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a href="/preview/{}/" target="_blank">{}</a>', obj.pk, gettext("Preview")
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        layout = services.layout_save(
            node_id=obj.node_id if change else data["node"].pk,
            template=data["template"],
            is_home=data["is_home"],
            blocks=data.get("blocks") or {},
            actor=request.user,
        )
        obj.pk, obj.version = layout.pk, layout.version
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Nothing related to save (and never ``form.save_m2m()``)."""

    def delete_model(self, request, obj):
        services.layout_delete(node_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for node_id in queryset.values_list("pk", flat=True):
            services.layout_delete(node_id=node_id, actor=request.user)


# -- menus ---------------------------------------------------------------------------


class MenuForm(forms.ModelForm):
    class Meta:
        model = Menu
        fields = ["slug", "name"]
        help_texts = {"slug": gettext_lazy("The storefront shows the menus 'header' and 'footer'.")}


class MenuItemFormBase(forms.ModelForm):
    """A menu item with one label field per locale of the tenant (``label_en`` ...)."""

    locales: list[str] = []

    class Meta:
        model = MenuItem
        fields = ["parent", "position", "page", "url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code in self.locales:
            self.fields[f"label_{code}"].initial = (self.instance.label or {}).get(code, "")

    def label(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"label_{code}") or "" for code in self.locales}

    def clean(self):
        cleaned_data = super().clean()
        if self.cleaned_data.get("DELETE") or not self.has_changed():
            return cleaned_data
        page = cleaned_data.get("page")
        try:
            services.clean_menu_item(
                label=self.label(), page_id=page.pk if page else None, url=cleaned_data.get("url")
            )
        except PagesInvalid as invalid:
            aliases = {f"label.{code}": f"label_{code}" for code in self.locales}
            aliases["label"] = f"label_{self.locales[0]}" if self.locales else "url"
            for name, message in invalid.errors.items():
                target = aliases.get(name, name)
                self.add_error(target if target in self.fields else None, message)
        return cleaned_data


def menu_item_form(locales: list[str]) -> type[MenuItemFormBase]:
    fields = {
        f"label_{code}": forms.CharField(
            label=gettext("Label (%(locale)s)") % {"locale": code},
            required=False,
            max_length=services.LABEL_MAX_LENGTH,
            help_text=gettext_lazy("Empty: the page's title.") if index == 0 else "",
        )
        for index, code in enumerate(locales)
    }
    return type("MenuItemForm", (MenuItemFormBase,), {"locales": list(locales), **fields})


class MenuItemInline(admin.TabularInline):
    model = MenuItem
    fk_name = "menu"
    extra = 1
    ordering = ["parent_id", "position", "id"]

    def get_fields(self, request, obj=None):
        labels = [f"label_{code}" for code in current_locales()]
        return ["parent", "position", *labels, "page", "url"]

    def get_formset(self, request, obj=None, **kwargs):
        request._pages_menu = obj
        kwargs["form"] = menu_item_form(current_locales())
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            menu = getattr(request, "_pages_menu", None)
            kwargs["queryset"] = (
                MenuItem.objects.filter(menu=menu)
                .select_related("page")
                .prefetch_related("page__translations")
                if menu
                else MenuItem.objects.none()
            )
            kwargs["form_class"] = MenuItemChoiceField
        if db_field.name == "page":
            kwargs["queryset"] = selectors.page_nodes()
            kwargs["form_class"] = PageChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Menu)
class MenuAdmin(ServiceAdmin):
    form = MenuForm
    inlines = [MenuItemInline]
    list_display = ["name", "slug", "item_count", "version", "updated_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["version", "updated_at"]

    @admin.display(description=gettext_lazy("Items"))
    def item_count(self, obj: Menu) -> int:
        return obj.items.count()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            menu = services.menu_update(
                menu_id=obj.pk, slug=data["slug"], name=data["name"], actor=request.user
            )
        else:
            menu = services.menu_create(slug=data["slug"], name=data["name"], actor=request.user)
        obj.pk, obj.version = menu.pk, menu.version
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        menu_id = form.instance.pk
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = [f for f in formset.deleted_forms if f.instance.pk]
        for item_form in deleted:
            services.menu_item_delete(item_id=item_form.instance.pk, actor=request.user)
            formset.deleted_objects.append(item_form.instance)
        gone = {f.instance.pk for f in deleted}
        for item_form in formset.forms:
            if item_form in formset.deleted_forms or not item_form.has_changed():
                continue
            data = item_form.cleaned_data
            values = {
                "label": item_form.label(),
                "page_id": data["page"].pk if data.get("page") else None,
                "url": data.get("url") or "",
                "parent_id": data["parent"].pk if data.get("parent") else None,
                "position": data.get("position") or 0,
            }
            if values["parent_id"] in gone:
                continue  # nested under an item deleted just now: deleted with it
            if item_form.instance.pk:
                if not MenuItem.objects.filter(pk=item_form.instance.pk).exists():
                    continue  # deleted with an item it was nested under
                item = services.menu_item_update(
                    item_id=item_form.instance.pk, actor=request.user, **values
                )
                formset.changed_objects.append((item, item_form.changed_data))
            else:
                item = services.menu_item_add(menu_id=menu_id, actor=request.user, **values)
                formset.new_objects.append(item)

    def delete_model(self, request, obj):
        services.menu_delete(menu_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for menu_id in queryset.values_list("pk", flat=True):
            services.menu_delete(menu_id=menu_id, actor=request.user)
