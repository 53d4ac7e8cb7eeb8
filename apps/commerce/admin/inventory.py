"""Locations, stock adjustments (the form that writes ``stock_adjust``, and the read-only
history) and the store's currencies."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.utils.translation import gettext, gettext_lazy

from apps.core.admin import ServiceRejected, adopt, short_date
from apps.people import selectors as people

from .. import selectors, services
from ..errors import OutOfStock
from ..models import AdjustmentReason, Location, StockAdjustment, StoreSettings, Variant
from .base import CommerceAdmin, changed_values


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["name", "code", "active"]


@admin.register(Location)
class LocationAdmin(CommerceAdmin):
    form = LocationForm
    list_display = ["name", "code", "active"]
    list_filter = ["active"]
    search_fields = ["name", "code"]
    ordering = ["name"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            location = services.location_create(
                code=data["code"], name=data["name"], active=data["active"], actor=request.user
            )
            adopt(obj, location)
            return
        fields = changed_values(form, ("name", "code", "active"))
        if fields:
            services.location_update(location_id=obj.pk, **fields, actor=request.user)

    def delete_model(self, request, obj):
        services.location_delete(location_id=obj.pk, actor=request.user)


class VariantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Variant) -> str:
        return f"{obj.sku} · {obj.product.title}"


class StockAdjustmentForm(forms.ModelForm):
    variant = VariantChoiceField(
        label=gettext_lazy("variant"),
        queryset=Variant.objects.select_related("product").order_by("sku"),
    )
    location = forms.ModelChoiceField(
        label=gettext_lazy("location"), queryset=Location.objects.filter(active=True)
    )
    delta = forms.IntegerField(
        label=gettext_lazy("change"),
        help_text=gettext_lazy("Units added (positive) or taken away (negative)."),
    )
    reason = forms.ChoiceField(label=gettext_lazy("reason"), choices=AdjustmentReason.choices)

    class Meta:
        model = StockAdjustment
        fields = ["variant", "location", "delta", "reason", "note"]


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(CommerceAdmin):
    """The adjustment form (add) and the history, which nobody edits or deletes."""

    form = StockAdjustmentForm
    list_display = ["when", "sku", "location", "delta", "reason", "on_hand_after", "actor_name"]
    list_select_related = ["variant__product", "location", "actor", f"actor__{people.PROFILE}"]
    list_filter = ["reason", "location"]
    search_fields = ["variant__sku", "variant__product__title", "note"]
    search_help_text = gettext_lazy("SKU, product title or note.")
    list_per_page = 100
    readonly_fields = ["variant", "location", "delta", "reason", "on_hand_after", "note"]
    error_fields = {"variant_id": "variant", "location_id": "location", "on_hand": "delta"}

    def has_change_permission(self, request, obj=None):
        return False

    def rejection(self, error):
        if isinstance(error, OutOfStock):  # the change is what would take the stock too low
            return ServiceRejected(errors={"delta": error.detail})
        return super().rejection(error)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self.readonly_fields, "actor_name", "created_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["variant", "location", "delta", "reason", "note"]
        return self.get_readonly_fields(request, obj)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "location" not in initial:
            first = selectors.locations(active_only=True).values_list("pk", flat=True).first()
            if first is not None:
                initial["location"] = first
        return initial

    @admin.display(description=gettext_lazy("when"), ordering="created_at")
    def when(self, obj: StockAdjustment):
        return short_date(obj.created_at)

    @admin.display(description=gettext_lazy("SKU"), ordering="variant__sku")
    def sku(self, obj: StockAdjustment) -> str:
        return obj.variant.sku

    @admin.display(description=gettext_lazy("by"))
    def actor_name(self, obj: StockAdjustment) -> str:
        if obj.actor is None:
            return "-"
        return people.display_name(obj.actor) or obj.actor.get_username()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.stock_adjust(
            variant_id=data["variant"].pk,
            location_id=data["location"].pk,
            delta=data["delta"],
            reason=data["reason"],
            note=data.get("note") or "",
            actor=request.user,
        )
        written = selectors.adjustments(
            variant_id=data["variant"].pk, location_id=data["location"].pk
        ).first()
        adopt(obj, written)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            gettext("Stock of %(sku)s at %(location)s is now %(count)d.")
            % {"sku": obj.variant.sku, "location": obj.location.name, "count": obj.on_hand_after},
        )
        if "_addanother" in request.POST:
            return HttpResponseRedirect(request.path)
        return HttpResponseRedirect(self.url("changelist"))


class StoreSettingsForm(forms.ModelForm):
    # Not named like the model's array field, which the form would fill with this text.
    currency_codes = forms.CharField(
        label=gettext_lazy("enabled currencies"),
        help_text=gettext_lazy("ISO 4217 codes, comma-separated (e.g. USD, EUR)."),
        max_length=200,
    )

    class Meta:
        model = StoreSettings
        fields = ["default_currency", "prices_include_tax"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "currency_codes" in self.fields:
            self.initial["currency_codes"] = ", ".join(self.instance.enabled_currencies)

    def currencies(self) -> list[str]:
        text = self.cleaned_data.get("currency_codes") or ""
        return [code.strip() for code in text.split(",") if code.strip()]


@admin.register(StoreSettings)
class StoreSettingsAdmin(CommerceAdmin):
    """The store's one row of settings: its list is its change form."""

    form = StoreSettingsForm
    fields = ["default_currency", "currency_codes", "prices_include_tax"]
    error_fields = {"enabled_currencies": "currency_codes"}

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        return selectors.store_settings() if str(object_id) == "1" else None

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(self.url("change", 1))

    def save_model(self, request, obj, form, change):
        settings_row = services.store_settings_update(
            default_currency=form.cleaned_data["default_currency"],
            enabled_currencies=form.currencies(),
            prices_include_tax=form.cleaned_data["prices_include_tax"],
            actor=request.user,
        )
        adopt(obj, settings_row)
