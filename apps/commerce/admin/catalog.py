"""Collections (hand-picked, ordered products) and the category tree; writes through services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db.models import Count
from django.utils.translation import gettext, gettext_lazy

from apps.core.admin import adopt

from .. import selectors, services
from ..models import Category, Collection, Product
from .base import CommerceAdmin, changed_values


class CollectionForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=gettext_lazy("products"),
        queryset=Product.objects.order_by("title"),
        required=False,
        widget=FilteredSelectMultiple(gettext_lazy("products"), is_stacked=False),
        help_text=gettext_lazy("Products already listed keep their place; new ones go last."),
    )

    class Meta:
        model = Collection
        fields = ["title", "handle", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "handle" in self.fields:
            self.fields["handle"].required = False
            self.fields["handle"].help_text = gettext("Empty: made from the title.")
        if self.instance.pk and "members" in self.fields:
            self.fields["members"].initial = selectors.collection_product_ids(self.instance.pk)

    def ordered_members(self) -> list:
        """The chosen products: those listed before in their order, then the new ones."""
        chosen = [product.pk for product in self.cleaned_data.get("members") or []]
        before = list(self.fields["members"].initial or [])
        kept = [pk for pk in before if pk in chosen]
        return kept + [pk for pk in chosen if pk not in kept]


@admin.register(Collection)
class CollectionAdmin(CommerceAdmin):
    form = CollectionForm
    error_fields = {"product_ids": "members"}
    fields = ["title", "handle", "description", "members"]
    list_display = ["title", "handle", "product_count"]
    search_fields = ["title", "handle"]
    ordering = ["title"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(admin_products=Count("members"))

    @admin.display(description=gettext_lazy("products"), ordering="admin_products")
    def product_count(self, obj: Collection) -> int:
        return obj.admin_products

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            collection = services.collection_create(
                title=data["title"],
                handle=data.get("handle") or "",
                description=data.get("description") or "",
                product_ids=form.ordered_members(),
                actor=request.user,
            )
            adopt(obj, collection)
            return
        fields = changed_values(form, ("title", "handle", "description"))
        if fields:
            fields = {name: value or "" for name, value in fields.items()}
            services.collection_update(collection_id=obj.pk, **fields, actor=request.user)
        if "members" in form.changed_data:
            services.collection_set_products(
                collection_id=obj.pk, product_ids=form.ordered_members(), actor=request.user
            )

    def delete_model(self, request, obj):
        services.collection_delete(collection_id=obj.pk, actor=request.user)


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "handle", "parent", "position", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "handle" in self.fields:
            self.fields["handle"].required = False
            self.fields["handle"].help_text = gettext("Empty: made from the name.")


@admin.register(Category)
class CategoryAdmin(CommerceAdmin):
    form = CategoryForm
    list_display = ["name", "handle", "parent", "position"]
    list_select_related = ["parent"]
    search_fields = ["name", "handle"]
    ordering = ["parent__name", "position", "name"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        parent = data.get("parent")
        if not change:
            category = services.category_create(
                name=data["name"],
                handle=data.get("handle") or "",
                parent_id=parent.pk if parent else None,
                position=data.get("position") or 0,
                description=data.get("description") or "",
                actor=request.user,
            )
            adopt(obj, category)
            return
        fields = changed_values(form, ("name", "handle", "description", "position"))
        for name in ("name", "handle", "description"):
            if name in fields:
                fields[name] = fields[name] or ""
        if "position" in fields:
            fields["position"] = fields["position"] or 0
        if "parent" in form.changed_data:
            if parent is None:
                fields["to_top_level"] = True
            else:
                fields["parent_id"] = parent.pk
        if fields:
            services.category_update(category_id=obj.pk, **fields, actor=request.user)

    def delete_model(self, request, obj):
        services.category_delete(category_id=obj.pk, actor=request.user)
