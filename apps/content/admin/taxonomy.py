"""The content admin of categories and tags: every write through content's services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext, gettext_lazy

from apps.core.admin import ServiceAdmin, adopt

from .. import services
from ..models import Category, Tag


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:  # (a view-only form has no fields)
            self.fields["slug"].required = False
            self.fields["slug"].help_text = gettext("Empty: made from the name.")
        if "parent" in self.fields and self.instance.pk:
            self.fields["parent"].queryset = Category.objects.exclude(pk=self.instance.pk)


@admin.register(Category)
class CategoryAdmin(ServiceAdmin):
    form = CategoryForm
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
                description=data.get("description", ""), actor=request.user,
            )  # fmt: skip
        else:
            category = services.category_create(
                name=data["name"], slug=data.get("slug") or "", parent_id=parent_id,
                description=data.get("description", ""), actor=request.user,
            )  # fmt: skip
            adopt(obj, category)

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.category_delete(category_id=obj.pk, actor=request.user)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name", "slug"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = gettext("Empty: made from the name.")


@admin.register(Tag)
class TagAdmin(ServiceAdmin):
    form = TagForm
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
                tag_id=obj.pk, name=data["name"], slug=data.get("slug") or "", actor=request.user
            )
            return
        # A new tag whose slug exists already is that tag (tag_get_or_create).
        tag = services.tag_get_or_create(
            name=data["name"], slug=data.get("slug") or "", actor=request.user
        )
        adopt(obj, tag)

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.tag_delete(tag_id=obj.pk, actor=request.user)
