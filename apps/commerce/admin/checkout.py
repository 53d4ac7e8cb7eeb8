"""The checkout's settings: tax rates per country, shipping zones, shipping methods with their
rates (inline), vouchers with their amounts per currency (inline) and their uses (read
only). Each form is one call of ``apps.commerce.checkout_settings``; a refusal of an inline
row shows on that row."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext, gettext_lazy

from apps.core.admin import adopt, short_date
from apps.core.errors import PlatformError

from .. import checkout_settings as services
from ..addresses import country_choices
from ..models import (
    ShippingMethod,
    ShippingRate,
    ShippingZone,
    TaxRate,
    Voucher,
    VoucherAmount,
    VoucherUse,
)
from .base import CommerceAdmin, InlineRejected, RejectableForm, with_rejections


def _rows(formset) -> list[tuple[forms.Form, dict]]:
    """The inline forms that are kept (filled in and not deleted), with their data."""
    if formset is None:
        return []
    kept = []
    for form in formset.forms:
        if form in formset.deleted_forms or (not form.has_changed() and form.instance.pk is None):
            continue
        kept.append((form, form.cleaned_data))
    return kept


def _inline_rejection(error: PlatformError, part: str, rows) -> InlineRejected:
    """A refusal naming ``<part>.<index>.<field>`` on that row's form, the rest on the main
    form."""
    errors = getattr(error, "errors", None) or {"__all__": error.detail}
    rejected = InlineRejected()
    for key, message in errors.items():
        name, index, field = [*str(key).split(".", 2), "", ""][:3]
        if name == part and index.isdigit() and int(index) < len(rows):
            rejected.form_errors.setdefault(rows[int(index)][0].prefix, {})[field] = message
        else:
            rejected.errors[key] = message
    if rejected.form_errors and not rejected.errors:
        rejected.errors["__all__"] = gettext("The change was refused: see the errors below.")
    return rejected


def _clear(formsets) -> None:
    for formset in formsets:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# -- tax rates ------------------------------------------------------------------------------------


class TaxRateForm(forms.ModelForm):
    country = forms.ChoiceField(label=gettext_lazy("country"), choices=())

    class Meta:
        model = TaxRate
        fields = ["country", "rate", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices("en")

    def clean_rate(self):
        rate = self.cleaned_data.get("rate")
        if rate is not None and not 0 <= rate < 1:
            raise forms.ValidationError(gettext("a rate from 0 to 0.9999 (0.19 for 19 %)"))
        return rate


@admin.register(TaxRate)
class TaxRateAdmin(CommerceAdmin):
    form = TaxRateForm
    list_display = ["country", "rate", "name"]
    search_fields = ["country", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["country"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        row = services.tax_rate_set(
            country=obj.country if change else data["country"],
            rate=data["rate"],
            name=data.get("name") or "",
            actor=request.user,
        )
        adopt(obj, row)

    def delete_model(self, request, obj):
        services.tax_rate_delete(country=obj.country, actor=request.user)


# -- shipping -------------------------------------------------------------------------------------


class ShippingZoneForm(forms.ModelForm):
    country_codes = forms.CharField(
        label=gettext_lazy("countries"),
        help_text=gettext_lazy("ISO 3166 alpha-2 codes, comma-separated (e.g. DE, AT, CH)."),
        max_length=1000,
    )

    class Meta:
        model = ShippingZone
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["country_codes"] = ", ".join(self.instance.countries or [])


@admin.register(ShippingZone)
class ShippingZoneAdmin(CommerceAdmin):
    form = ShippingZoneForm
    fields = ["name", "country_codes", "methods"]
    readonly_fields = ["methods"]
    list_display = ["name", "country_list"]
    search_fields = ["name"]
    error_fields = {"countries": "country_codes"}

    @admin.display(description=gettext_lazy("countries"))
    def country_list(self, obj):
        return ", ".join(obj.countries)

    @admin.display(description=gettext_lazy("shipping methods"))
    def methods(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return ", ".join(method.name for method in obj.methods.all()) or "-"

    def save_model(self, request, obj, form, change):
        zone = services.shipping_zone_save(
            zone_id=obj.pk if change else None,
            name=form.cleaned_data["name"],
            countries=form.cleaned_data["country_codes"],
            actor=request.user,
        )
        adopt(obj, zone)

    def delete_model(self, request, obj):
        services.shipping_zone_delete(zone_id=obj.pk, actor=request.user)


class ShippingRateForm(RejectableForm):
    class Meta:
        model = ShippingRate
        fields = ["currency", "price", "free_over"]


class RejectableInline(admin.TabularInline):
    """Rows written by the parent's service: its refusals show on the row they name."""

    extra = 1

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = with_rejections(request, self.form)
        return super().get_formset(request, obj, **kwargs)


class ShippingRateInline(RejectableInline):
    model = ShippingRate
    form = ShippingRateForm


class ShippingMethodForm(forms.ModelForm):
    name_de = forms.CharField(label=gettext_lazy("name (German)"), required=False, max_length=120)

    class Meta:
        model = ShippingMethod
        fields = ["zone", "name", "active", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["name_de"] = (self.instance.name_translations or {}).get("de", "")


@admin.register(ShippingMethod)
class ShippingMethodAdmin(CommerceAdmin):
    form = ShippingMethodForm
    inlines = [ShippingRateInline]
    list_display = ["name", "zone", "active", "position"]
    list_filter = ["active", "zone"]
    list_select_related = ["zone"]

    def save_model(self, request, obj, form, change):
        """Nothing here: the method is written in ``save_related``, with its rates."""

    def save_related(self, request, form, formsets, change):
        _clear(formsets)
        rows = _rows(next(iter(formsets), None))
        data = form.cleaned_data
        translations = dict(form.instance.name_translations or {})
        translations["de"] = data.get("name_de") or ""
        try:
            method = services.shipping_method_save(
                method_id=form.instance.pk if change else None,
                zone_id=data["zone"].pk,
                name=data["name"],
                name_translations=translations,
                active=data["active"],
                position=data["position"],
                rates=[
                    services.RateInput(row["currency"], row["price"], row.get("free_over"))
                    for _form, row in rows
                ],
                actor=request.user,
            )
        except PlatformError as error:
            raise _inline_rejection(error, "rates", rows) from None
        if not change:
            adopt(form.instance, method)

    def delete_model(self, request, obj):
        services.shipping_method_delete(method_id=obj.pk, actor=request.user)


# -- vouchers -------------------------------------------------------------------------------------


class VoucherAmountForm(RejectableForm):
    class Meta:
        model = VoucherAmount
        fields = ["currency", "amount", "min_subtotal"]


class VoucherAmountInline(RejectableInline):
    model = VoucherAmount
    form = VoucherAmountForm


class VoucherUseInline(admin.TabularInline):
    model = VoucherUse
    fields = ["checkout_reference", "used", "customer_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    verbose_name_plural = gettext_lazy("uses")

    @admin.display(description=gettext_lazy("used at"))
    def used(self, obj):
        return short_date(obj.used_at)

    def has_add_permission(self, request, obj=None):
        return False


class VoucherForm(forms.ModelForm):
    class Meta:
        model = Voucher
        fields = [
            "code", "kind", "percentage", "starts_at", "ends_at", "usage_limit",
            "per_customer_limit", "active",
        ]  # fmt: skip

    def clean_code(self):
        return (self.cleaned_data.get("code") or "").strip().upper()


@admin.register(Voucher)
class VoucherAdmin(CommerceAdmin):
    form = VoucherForm
    inlines = [VoucherAmountInline, VoucherUseInline]
    list_display = ["code", "kind", "percentage", "used_count", "usage_limit", "active"]
    list_filter = ["active", "kind"]
    search_fields = ["code"]
    readonly_fields = ["used_count"]

    def save_model(self, request, obj, form, change):
        """Nothing here: the voucher is written in ``save_related``, with its amounts."""

    def save_related(self, request, form, formsets, change):
        _clear(formsets)
        amounts = next((f for f in formsets if f.model is VoucherAmount), None)
        rows = _rows(amounts)
        data = form.cleaned_data
        try:
            voucher = services.voucher_save(
                voucher_id=form.instance.pk if change else None,
                data=services.VoucherInput(
                    code=data["code"], kind=data["kind"], percentage=data.get("percentage"),
                    starts_at=data.get("starts_at"), ends_at=data.get("ends_at"),
                    usage_limit=data.get("usage_limit"),
                    per_customer_limit=data.get("per_customer_limit"), active=data["active"],
                    amounts=[
                        services.VoucherAmountInput(
                            row["currency"], row.get("amount"), row.get("min_subtotal")
                        )
                        for _form, row in rows
                    ],
                ),
                actor=request.user,
            )  # fmt: skip
        except PlatformError as error:
            raise _inline_rejection(error, "amounts", rows) from None
        if not change:
            adopt(form.instance, voucher)

    def delete_model(self, request, obj):
        services.voucher_delete(voucher_id=obj.pk, actor=request.user)
