"""The content admin of categories and tags: every write through content's services.

``name`` (and a category's ``description``) are the tenant's default locale's; each
other enabled locale has its own fields for the names readers of that locale see.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html_join
from django.utils.translation import gettext, gettext_lazy

from apps.core.admin import ServiceAdmin, TranslatedNamesForm, adopt, locale_field

from .. import services
from ..models import Category, Tag
from ..selectors import current_locales


def _other_locales() -> list[str]:
    """The enabled locales besides the default one (whose texts are the plain fields)."""
    return current_locales()[1:]


class TranslatedNamesAdmin(ServiceAdmin):
    """Shows the per-locale fields in their own fieldset, and the service's errors on them."""

    base_fields: list[str] = []

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = self.form.for_locales(_other_locales())
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        readonly = [name for name in self.readonly_fields if name not in self.base_fields]
        main = (None, {"fields": [*self.base_fields, *readonly]})
        if obj is not None and not self.has_change_permission(request, obj):
            return [main, (gettext("Other languages"), {"fields": ["other_names"]})]
        fields = [
            locale_field(name, locale)
            for locale in _other_locales()
            for name in self.form.translated
        ]
        return [main, (gettext("Other languages"), {"fields": fields})] if fields else [main]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "other_names"]

    @admin.display(description=gettext_lazy("other languages"))
    def other_names(self, obj):
        return format_html_join(
            "",
            "<div><strong>{}</strong>: {}</div>",
            (
                (locale, values.get("name", ""))
                for locale, values in sorted(obj.translations.items())
            ),
        )

    def rejection(self, error):
        rejected = super().rejection(error)
        rejected.errors = {
            self._form_field(name): message for name, message in rejected.errors.items()
        }
        return rejected

    @staticmethod
    def _form_field(name: str) -> str:
        """``translations.de.name`` (the service's) is ``name_de`` (the form's)."""
        parts = name.split(".")
        if parts[0] != "translations" or len(parts) < 2:
            return name
        return locale_field(parts[2] if len(parts) > 2 else "name", parts[1])


class CategoryForm(TranslatedNamesForm):
    translated = services.CATEGORY_TRANSLATION_FIELDS

    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields and self.instance.pk:
            self.fields["parent"].queryset = Category.objects.exclude(pk=self.instance.pk)


@admin.register(Category)
class CategoryAdmin(TranslatedNamesAdmin):
    form = CategoryForm
    base_fields = ["name", "slug", "parent", "description"]
    list_display = ["name", "slug", "parent", "position", "node_count"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    readonly_fields = ["position"]
    actions = ["delete_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(node_count=Count("nodes"))

    @admin.display(description=gettext_lazy("content"), ordering="node_count")
    def node_count(self, obj: Category) -> int:
        return obj.node_count

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        parent_id = data["parent"].pk if data.get("parent") else None
        if change:
            services.category_update(
                category_id=obj.pk, name=data["name"], slug=data.get("slug") or "",
                parent_id=parent_id, to_top_level=parent_id is None,
                description=data.get("description", ""), translations=form.translations(),
                actor=request.user,
            )  # fmt: skip
        else:
            category = services.category_create(
                name=data["name"], slug=data.get("slug") or "", parent_id=parent_id,
                description=data.get("description", ""), translations=form.translations(),
                actor=request.user,
            )  # fmt: skip
            adopt(obj, category)

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.category_delete(category_id=obj.pk, actor=request.user)


class TagForm(TranslatedNamesForm):
    translated = services.TAG_TRANSLATION_FIELDS

    class Meta:
        model = Tag
        fields = ["name", "slug"]


@admin.register(Tag)
class TagAdmin(TranslatedNamesAdmin):
    form = TagForm
    base_fields = ["name", "slug"]
    list_display = ["name", "slug", "node_count"]
    search_fields = ["name", "slug"]
    actions = ["delete_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(node_count=Count("nodes"))

    @admin.display(description=gettext_lazy("content"), ordering="node_count")
    def node_count(self, obj: Tag) -> int:
        return obj.node_count

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:  # a rename (tag_update), refused when the slug is taken
            services.tag_update(
                tag_id=obj.pk, name=data["name"], slug=data.get("slug") or "",
                translations=form.translations(), actor=request.user,
            )  # fmt: skip
            return
        # A new tag whose slug exists already is that tag (tag_get_or_create).
        tag = services.tag_get_or_create(
            name=data["name"], slug=data.get("slug") or "", translations=form.translations(),
            actor=request.user,
        )  # fmt: skip
        adopt(obj, tag)

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.tag_delete(tag_id=obj.pk, actor=request.user)
