"""Products with their translations, options, variants (prices per currency, stock per
location) and images on one change form, saved by one ``services.product_save``; status
actions derived from ``services.PRODUCT_TRANSITIONS``."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.admin import adopt, alt_field, alt_text_fields, short_date, transition_action
from apps.core.errors import PlatformError
from apps.core.transitions import Transition

from .. import selectors, services
from ..admin_csv import export_catalog_csv
from ..models import (
    Price,
    Product,
    ProductImage,
    ProductOption,
    ProductStatus,
    ProductTranslation,
    StockLevel,
    Variant,
    VariantOptionValue,
)
from ..money import Money
from ..services import PRODUCT_TRANSITIONS
from .base import CommerceAdmin, InlineRejected, RejectableForm, with_rejections

TITLE_CHARS = 60

STATUS_COLORS = {
    ProductStatus.DRAFT: "commerce-badge--draft",
    ProductStatus.ACTIVE: "commerce-badge--active",
    ProductStatus.ARCHIVED: "commerce-badge--archived",
}


# -- the product's own form and its translations --------------------------------------------


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "title",
            "handle",
            "vendor",
            "product_type",
            "categories",
            "description_format",
            "description",
            "seo_title",
            "seo_description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 8, "cols": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "handle" in self.fields:  # (a view-only form has no fields)
            self.fields["handle"].required = False
            self.fields["handle"].help_text = gettext("Empty: made from the title.")


class TranslationForm(RejectableForm):
    class Meta:
        model = ProductTranslation
        fields = [*services.TRANSLATION_FIELDS[:1], "locale", *services.TRANSLATION_FIELDS[1:]]
        widgets = {"description": forms.Textarea(attrs={"rows": 6, "cols": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locales = selectors.current_locales()[1:]
        if self.instance.locale and self.instance.locale not in locales:
            locales.append(self.instance.locale)
        if "locale" in self.fields:
            self.fields["locale"] = forms.ChoiceField(
                label=self.fields["locale"].label, choices=[(code, code) for code in locales]
            )


class TranslationInline(admin.StackedInline):
    """One form per enabled locale besides the default one (the product's own fields)."""

    model = ProductTranslation
    form = TranslationForm
    extra = 0
    verbose_name = gettext_lazy("translation")
    verbose_name_plural = gettext_lazy("translations")
    fields = [
        ("locale", "title"), "description_format", "description", "seo_title", "seo_description",
    ]  # fmt: skip

    def get_max_num(self, request, obj=None, **kwargs):
        stored = obj.translations.count() if obj else 0
        return max(len(selectors.current_locales()) - 1, stored)

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = with_rejections(request, self.form)
        return super().get_formset(request, obj, **kwargs)


# -- options ----------------------------------------------------------------------------------


class OptionForm(RejectableForm):
    values = forms.CharField(
        label=gettext_lazy("values"),
        help_text=gettext_lazy("Comma-separated, in order (e.g. S, M, L)."),
        max_length=5000,
    )

    class Meta:
        model = ProductOption
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "values" in self.fields:
            self.fields["values"].initial = ", ".join(v.value for v in self.instance.values.all())

    def value_list(self) -> list[str]:
        return [value.strip() for value in self.cleaned_data.get("values", "").split(",")]


class OptionInline(admin.TabularInline):
    model = ProductOption
    form = OptionForm
    extra = 0
    max_num = ProductOption.MAX_PER_PRODUCT
    fields = ["name", "values"]
    verbose_name = gettext_lazy("option")
    verbose_name_plural = gettext_lazy("options (size, colour, …; at most three)")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("values")

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = with_rejections(request, self.form)
        return super().get_formset(request, obj, **kwargs)


# -- variants: one value per option, a price per enabled currency, stock per location -------


VARIANT_FIELDS = (
    "sku", "barcode", "weight_grams", "position", "inventory_policy", "tracked",
    "low_stock_threshold",
)  # fmt: skip


def _option_field(option: ProductOption) -> str:
    return f"option_{option.pk}"


def _price_field(currency: str) -> str:
    return f"price_{currency}"


def _compare_at_field(currency: str) -> str:
    return f"compare_at_{currency}"


class VariantForm(RejectableForm):
    options: list[ProductOption] = []
    currencies: list[str] = []

    class Meta:
        model = Variant
        fields = list(VARIANT_FIELDS)

    @classmethod
    def build(cls, options: list[ProductOption], currencies: list[str]) -> type[VariantForm]:
        fields: dict[str, forms.Field] = {}
        for option in options:
            fields[_option_field(option)] = forms.ChoiceField(
                label=option.name,
                choices=[("", "---------")] + [(v.value, v.value) for v in option.values.all()],
                required=False,
            )
        for currency in currencies:
            fields[_price_field(currency)] = forms.DecimalField(
                label=gettext("Price (%(currency)s)") % {"currency": currency},
                required=False,
                max_digits=20,
            )
            fields[_compare_at_field(currency)] = forms.DecimalField(
                label=gettext("Compare-at price (%(currency)s)") % {"currency": currency},
                required=False,
                max_digits=20,
                help_text=gettext("Higher than the price; empty: not on sale."),
            )
        return type(cls.__name__, (cls,), {**fields, "options": options, "currencies": currencies})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            return
        chosen = {choice.option_id: choice.value.value for choice in self.instance.choices.all()}
        prices = {price.currency: price for price in self.instance.prices.all()}
        for option in self.options:
            if _option_field(option) in self.fields:
                self.fields[_option_field(option)].initial = chosen.get(option.pk, "")
        for currency in self.currencies:
            price = prices.get(currency)
            if price is not None and _price_field(currency) in self.fields:
                self.fields[_price_field(currency)].initial = price.money.amount
                compare_at = price.compare_at_money
                self.fields[_compare_at_field(currency)].initial = (
                    compare_at.amount if compare_at else None
                )

    def chosen_options(self) -> dict[str, str]:
        return {
            option.name: self.cleaned_data.get(_option_field(option)) or ""
            for option in self.options
        }

    def options_changed(self) -> bool:
        return any(_option_field(option) in self.changed_data for option in self.options)

    def error_field(self, key: str, *, currency: str | None = None) -> str:
        """The field of this form a service's error ``key`` is about."""
        if currency is not None and key in ("amount", "currency"):
            return _price_field(currency)
        if currency is not None and key == "compare_at_amount":
            return _compare_at_field(currency)
        if key.startswith("options."):
            name = key.removeprefix("options.")
            for option in self.options:
                if option.name == name:
                    return _option_field(option)
        return key if key in self.fields else "__all__"


class VariantInline(admin.StackedInline):
    model = Variant
    form = VariantForm
    extra = 0
    verbose_name = gettext_lazy("variant")
    verbose_name_plural = gettext_lazy("variants")
    readonly_fields = ["stock"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("prices", queryset=Price.objects.order_by("currency")),
                Prefetch("choices", queryset=VariantOptionValue.objects.select_related("value")),
                Prefetch(
                    "stock_levels",
                    queryset=StockLevel.objects.select_related("location").order_by(
                        "location__name"
                    ),
                ),
            )
        )

    def get_formset(self, request, obj=None, **kwargs):
        options = list(obj.options.prefetch_related("values")) if obj else []
        currencies = list(selectors.store_settings().enabled_currencies)
        kwargs["form"] = with_rejections(request, VariantForm.build(options, currencies))
        return super().get_formset(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        options = list(obj.options.all()) if obj else []
        currencies = list(selectors.store_settings().enabled_currencies)
        fieldsets = [
            (None, {"fields": [("sku", "barcode"), *(_option_field(o) for o in options)]}),
            (
                gettext("Prices"),
                {"fields": [(_price_field(c), _compare_at_field(c)) for c in currencies]},
            ),
            (
                gettext("Inventory"),
                {
                    "fields": [
                        ("inventory_policy", "tracked"),
                        "low_stock_threshold",
                        "stock",
                        ("weight_grams", "position"),
                    ]
                },
            ),
        ]
        return fieldsets

    @admin.display(description=gettext_lazy("stock per location"))
    def stock(self, obj: Variant):
        if obj is None or obj._state.adding:
            return "-"
        levels = list(obj.stock_levels.all())
        adjust = reverse("admin:commerce_stockadjustment_add") + f"?variant={obj.pk}"
        rows = format_html_join(
            "",
            "<div>{}: {} ({})</div>",
            (
                (
                    level.location.name,
                    level.on_hand,
                    gettext("%(count)d reserved") % {"count": level.reserved},
                )
                for level in levels
            ),
        )
        return format_html(
            '{}<a href="{}">{}</a>',
            rows or gettext("No stock recorded."),
            adjust,
            gettext("Adjust stock…"),
        )


# -- images: a thumbnail, alt text per enabled locale, position; new ones uploaded ---------


class _NotHere(forms.Widget):
    """The cell of a field that does not apply to this row of a table (kept in the table so
    the columns stay aligned)."""

    def render(self, name, value, attrs=None, renderer=None):
        return "-"


class ImageForm(RejectableForm):
    locales: list[str] = []
    upload = forms.FileField(
        label=gettext_lazy("new image"),
        required=False,
        help_text=gettext_lazy(
            "JPEG, PNG, GIF or WebP, at most 10 MB. The content is checked, not the name."
        ),
    )
    # Not the model's ``position`` (0-based, unique): the place a merchant asks for.
    place = forms.IntegerField(
        label=gettext_lazy("position"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("1 is the main image."),
    )

    class Meta:
        model = ProductImage
        fields: list[str] = []

    @classmethod
    def build(cls, locales: list[str]) -> type[ImageForm]:
        fields = alt_text_fields(locales, max_length=services.ALT_TEXT_MAX_LENGTH)
        return type(cls.__name__, (cls,), {**fields, "locales": locales})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = not self.instance._state.adding
        # A stored image keeps its file; a new one takes its place after the others.
        hidden = "upload" if stored else "place"
        if hidden in self.fields:
            self.fields[hidden].disabled = True
            self.fields[hidden].widget = _NotHere()
        for field in self.fields.values():  # (a table's cells have no <label> of their own)
            field.widget.attrs.setdefault("aria-label", str(field.label))
        if stored:
            for locale in self.locales:
                if alt_field(locale) in self.fields:
                    self.fields[alt_field(locale)].initial = self.instance.alt_text.get(locale, "")
            if "place" in self.fields:
                self.fields["place"].initial = self.instance.position + 1

    def is_multipart(self) -> bool:
        return True  # (also when the first form is a stored image's: no file input)

    def alt_text(self) -> dict[str, str]:
        return {locale: self.cleaned_data.get(alt_field(locale)) or "" for locale in self.locales}

    def alt_changed(self) -> bool:
        return any(alt_field(locale) in self.changed_data for locale in self.locales)

    def error_field(self, key: str) -> str:
        """The field of this form a service's error ``key`` is about."""
        if key == "file":
            return "upload"
        if key.startswith("alt_text."):
            name = alt_field(key.removeprefix("alt_text."))
            return name if name in self.fields else "__all__"
        return "__all__"


class ImageInline(admin.TabularInline):
    model = ProductImage
    form = ImageForm
    extra = 1
    max_num = services.MAX_IMAGES_PER_PRODUCT
    readonly_fields = ["thumbnail"]
    verbose_name = gettext_lazy("image")
    verbose_name_plural = gettext_lazy("images (the first is the main one)")

    def get_fields(self, request, obj=None):
        alts = [alt_field(locale) for locale in selectors.current_locales()]
        return ["thumbnail", "upload", *alts, "place"]

    def get_formset(self, request, obj=None, **kwargs):
        form = ImageForm.build(selectors.current_locales())
        kwargs["form"] = with_rejections(request, form)
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=gettext_lazy("image"))
    def thumbnail(self, obj: ProductImage):
        if obj is None or not obj.file:
            return "-"
        return format_html(
            '<img src="{}" alt="{}" class="commerce-thumbnail" width="{}" height="{}">',
            obj.file.url,
            obj.alt(selectors.current_locales()[0]),
            *_thumbnail_size(obj),
        )


def _thumbnail_size(image: ProductImage, box: int = 64) -> tuple[int, int]:
    """The image's width and height scaled to fit ``box`` pixels."""
    width, height = image.width or box, image.height or box
    scale = min(box / width, box / height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


# -- the product admin -------------------------------------------------------------------------


def _in_currency(currency: str, field: str, aggregate):
    prices = (
        Price.objects.filter(variant__product=OuterRef("pk"), currency=currency)
        .order_by()
        .values("variant__product")
        .annotate(value=aggregate(field))
        .values("value")
    )
    return Subquery(prices[:1])


def _default_currency(request) -> str:
    """The store's default currency, read once per request."""
    if not hasattr(request, "_commerce_default_currency"):
        request._commerce_default_currency = selectors.store_settings().default_currency
    return request._commerce_default_currency


@admin.register(Product)
class ProductAdmin(CommerceAdmin):
    form = ProductForm
    inlines = [OptionInline, VariantInline, ImageInline, TranslationInline]
    change_form_template = "admin/commerce/product/change_form.html"
    change_list_template = "admin/commerce/product/change_list.html"  # with the CSV links
    # Few columns: the list fits a 1280 px window with the sidebars open.
    list_display = ["title_cell", "status_badge", "variant_count", "price", "on_hand", "updated"]
    list_display_links = None
    list_filter = ["status", "categories", "collections"]
    list_per_page = 50
    search_fields = ["title", "handle", "variants__sku", "vendor"]
    search_help_text = gettext_lazy("Title, handle, vendor or a variant's SKU.")
    ordering = ["-updated_at"]
    filter_horizontal = ["categories"]
    actions = [
        *(transition_action(t) for t in PRODUCT_TRANSITIONS.by_action.values()),
        export_catalog_csv,
        "delete_selected",
    ]
    record_fields = ["status_badge", "version", "created_at", "updated_at"]

    def get_queryset(self, request):
        variants = (
            Variant.objects.filter(product=OuterRef("pk"))
            .order_by()
            .values("product")
            .annotate(n=Count("pk"))
        )
        stock = (
            StockLevel.objects.filter(variant__product=OuterRef("pk"))
            .order_by()
            .values("variant__product")
            .annotate(total=Sum("on_hand"))
            .values("total")
        )
        currency = _default_currency(request)
        return (
            super()
            .get_queryset(request)
            .annotate(
                admin_variants=Coalesce(
                    Subquery(variants.values("n")[:1], output_field=IntegerField()), 0
                ),
                admin_on_hand=Subquery(stock[:1], output_field=IntegerField()),
                admin_currency=Value(currency),
                admin_price_min=_in_currency(currency, "amount", Min),
                admin_price_max=_in_currency(currency, "amount", Max),
            )
        )

    # -- columns

    def display_name(self, obj) -> str:
        return obj.title

    @admin.display(description=gettext_lazy("title"), ordering="title")
    def title_cell(self, obj: Product):
        return format_html(
            '<a class="list-title" href="{}" title="{}">{}</a><div class="list-meta">{}</div>',
            self.url("change", obj.pk),
            obj.title,
            Truncator(obj.title).chars(TITLE_CHARS),
            obj.handle,
        )

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj: Product):
        return format_html(
            '<span class="commerce-badge {}">{}</span>',
            STATUS_COLORS.get(obj.status, ""),
            obj.get_status_display(),
        )

    @admin.display(description=gettext_lazy("variants"), ordering="admin_variants")
    def variant_count(self, obj: Product) -> int:
        return obj.admin_variants

    @admin.display(description=gettext_lazy("price"), ordering="admin_price_min")
    def price(self, obj: Product) -> str:
        if obj.admin_price_min is None:
            return "-"
        low = _money(obj.admin_price_min, obj.admin_currency)
        high = _money(obj.admin_price_max, obj.admin_currency)
        return low if low == high else gettext("%(low)s to %(high)s") % {"low": low, "high": high}

    @admin.display(description=gettext_lazy("on hand"), ordering="admin_on_hand")
    def on_hand(self, obj: Product):
        return "-" if obj.admin_on_hand is None else obj.admin_on_hand

    @admin.display(description=gettext_lazy("updated"), ordering="updated_at")
    def updated(self, obj: Product):
        return short_date(obj.updated_at)

    # -- the change form

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["title", "handle", ("vendor", "product_type"), "categories"]}),
            (gettext("Description"), {"fields": ["description_format", "description"]}),
            (
                gettext("SEO"),
                {"fields": ["seo_title", "seo_description"], "classes": ["collapse"]},
            ),
        ]
        if obj is not None:
            fieldsets.insert(1, (gettext("Record"), {"fields": self.record_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return list(self.record_fields) if obj is not None else []

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if len(selectors.current_locales()) < 2 and not (obj and obj.translations.exists()):
            inlines = [i for i in inlines if not isinstance(i, TranslationInline)]
        return inlines

    def change_view(self, request, object_id, form_url="", extra_context=None):
        product = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if product is not None:
            extra.setdefault("subtitle", product.title)
            if self.has_change_permission(request, product):
                extra["transitions"] = [
                    (transition, self.url("transition", product.pk, transition.action))
                    for transition in PRODUCT_TRANSITIONS.available(product.status)
                ]
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request, obj, form, change):
        """Nothing here: the product is written in ``save_related``, with its inlines."""

    def save_related(self, request, form, formsets, change):
        """The whole form is one ``product_save``; a refusal goes back on the form it names."""
        by_model = {formset.model: formset for formset in formsets}
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        data = form.cleaned_data
        if change:
            fields = {
                name: data.get(name) or ""
                for name in form.changed_data
                if name in services.PRODUCT_FIELDS
            }
            if "categories" in form.changed_data:
                fields["category_ids"] = [c.pk for c in data.get("categories") or []]
        else:
            fields = {name: data.get(name) or "" for name in services.PRODUCT_FIELDS}
            fields["category_ids"] = [c.pk for c in data.get("categories") or []]
        translations, delete_locales, prefixes = _translation_changes(
            by_model.get(ProductTranslation)
        )
        options = _option_changes(by_model.get(ProductOption))
        variants = _variant_changes(by_model.get(Variant))
        images, image_order = _image_changes(by_model.get(ProductImage))
        try:
            product = services.product_save(
                product_id=form.instance.pk if change else None,
                fields=fields,
                translations=translations,
                delete_locales=delete_locales,
                options=[option for option, _ in options],
                variants=[variant for variant, _ in variants],
                images=[image for image, _ in images],
                image_order=image_order,
                actor=request.user,
            )
        except PlatformError as error:
            forms_of = {"options": options, "variants": variants, "images": images}
            raise _save_rejection(error, prefixes, forms_of) from None
        if not change:
            adopt(form.instance, product)
        # What the admin logs next (``str(product)``) is read again.
        getattr(form.instance, "_prefetched_objects_cache", {}).clear()

    def delete_model(self, request, obj):
        services.product_delete(product_id=obj.pk, actor=request.user)

    # -- status transitions: bulk actions and the change form's buttons

    def take_transition(self, request, obj, transition: Transition) -> None:
        services.product_transition(product_id=obj.pk, action=transition.action, actor=request.user)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(require_POST(self.transition_view)),
                name="{}_{}_transition".format(*info),
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id, name: str):
        product = self.get_object(request, unquote(object_id))
        if product is None:
            raise Http404(gettext("No such product."))
        if not self.has_change_permission(request, product):
            raise PermissionDenied
        transition = PRODUCT_TRANSITIONS.get(name)
        if transition is None:
            raise Http404(gettext("No such action."))
        self.transition_many(request, self.get_queryset(request).filter(pk=product.pk), transition)
        return HttpResponseRedirect(self.url("change", product.pk))


def _money(amount, currency: str) -> str:
    return str(Money(amount, currency))


def _translation_changes(formset) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, str]]:
    """The changed translations by locale, the locales to delete, and each locale's form
    prefix (for the refusals)."""
    changed: dict[str, dict[str, Any]] = {}
    delete_locales: list[str] = []
    prefixes: dict[str, str] = {}
    for tform in formset.forms if formset is not None else []:
        locale = (tform.cleaned_data or {}).get("locale")
        if tform in formset.deleted_forms:
            if tform.instance.pk:
                delete_locales.append(tform.instance.locale)
            continue
        if not tform.has_changed() or not locale:
            continue
        prefixes[locale] = tform.prefix
        changed[locale] = {
            name: tform.cleaned_data.get(name) or "" for name in services.TRANSLATION_FIELDS
        }
        changed[locale]["description_format"] = (
            tform.cleaned_data.get("description_format") or "markdown"
        )
        if tform.instance.pk and tform.instance.locale != locale:
            delete_locales.append(tform.instance.locale)
    return changed, delete_locales, prefixes


Changes = list[tuple[Any, forms.BaseForm]]


def _option_changes(formset) -> Changes:
    """``(OptionChange, its form)`` of each option form that changes something."""
    found: Changes = []
    for oform in formset.forms if formset is not None else []:
        stored = oform.instance.pk
        if oform in formset.deleted_forms:
            if stored:
                found.append((services.OptionChange(option_id=stored, delete=True), oform))
        elif oform.has_changed():
            name, values = oform.cleaned_data["name"], oform.value_list()
            found.append((services.OptionChange(option_id=stored, name=name, values=values), oform))
    return found


def _variant_changes(formset) -> Changes:
    """``(VariantChange, its form)`` of each variant form that changes something."""
    found: Changes = []
    for vform in formset.forms if formset is not None else []:
        stored = None if vform.instance._state.adding else vform.instance.pk
        if vform in formset.deleted_forms:
            if stored:
                found.append((services.VariantChange(variant_id=stored, delete=True), vform))
            continue
        if not vform.has_changed():
            continue
        values = {name: vform.cleaned_data.get(name) for name in VARIANT_FIELDS}
        values["barcode"] = values["barcode"] or ""
        values["low_stock_threshold"] = values["low_stock_threshold"] or 0
        values["position"] = values["position"] or 0
        if stored:
            fields = {k: v for k, v in values.items() if k in vform.changed_data}
            if vform.options_changed():
                fields["options"] = vform.chosen_options()
        else:
            fields = {**values, "options": vform.chosen_options()}
        prices = [
            services.PriceChange(
                currency=currency,
                amount=vform.cleaned_data.get(_price_field(currency)),
                compare_at_amount=vform.cleaned_data.get(_compare_at_field(currency)),
            )
            for currency in vform.currencies
            if {_price_field(currency), _compare_at_field(currency)} & set(vform.changed_data)
        ]
        found.append(
            (services.VariantChange(variant_id=stored, fields=fields, prices=prices), vform)
        )
    return found


def _image_changes(formset) -> tuple[Changes, list[Any] | None]:
    """``(ImageChange, its form)`` of each image form that changes something, and the new
    order of the stored images kept (None: unchanged): by the position asked for, an image
    moved there before the one that was there."""
    found: Changes = []
    kept: list[tuple[int, bool, int, Any]] = []
    for index, iform in enumerate(formset.forms if formset is not None else []):
        stored = None if iform.instance._state.adding else iform.instance.pk
        if iform in formset.deleted_forms:
            if stored:
                found.append((services.ImageChange(image_id=stored, delete=True), iform))
            continue
        if stored:
            position = iform.cleaned_data.get("place") or iform.instance.position + 1
            kept.append((position, "place" not in iform.changed_data, index, stored))
            if iform.alt_changed():
                change = services.ImageChange(image_id=stored, alt_text=iform.alt_text())
                found.append((change, iform))
        elif iform.cleaned_data.get("upload"):
            change = services.ImageChange(
                file=iform.cleaned_data["upload"], alt_text=iform.alt_text()
            )
            found.append((change, iform))
    order = [image_id for *_, image_id in sorted(kept)]
    return found, (order if order != [image_id for *_, image_id in kept] else None)


def _option_error_field(key: str) -> str:
    if key.startswith("values"):
        return "values"
    return "name" if key == "name" else "__all__"


def _save_rejection(
    error: PlatformError, prefixes: dict[str, str], forms_of: dict[str, Changes]
) -> InlineRejected:
    """``product_save``'s refusal on the form of the part it names (``error.part``), else on
    the product's form or its translations'."""
    part = getattr(error, "part", None)
    errors = getattr(error, "errors", None)
    if not isinstance(errors, dict) or not errors:
        errors = {"__all__": error.detail}
    if part is None:
        return _translation_rejection(errors, prefixes)
    kind, _, rest = part.partition(".")
    index, _, price = rest.partition(".prices.")
    if kind not in forms_of or not index.isdigit() or int(index) >= len(forms_of[kind]):
        return InlineRejected(errors={"__all__": error.detail})  # (the images' order)
    change, form = forms_of[kind][int(index)]
    errors = {str(key).removeprefix(f"{part}."): message for key, message in errors.items()}
    default = "__all__"
    if kind == "options":
        field_of = _option_error_field
    elif price:
        field_of, default = partial(form.error_field, currency=price), _price_field(price)
    else:
        field_of = form.error_field
    return _form_rejection(errors, form, field_of, default=default, deleted=change.delete)


def _form_rejection(
    errors: dict[str, str], form, field_of, *, default: str = "__all__", deleted: bool = False
) -> InlineRejected:
    """A refusal of one inline ``form``'s part, on the fields it names (``__all__`` goes to
    ``default``). A deleted form shows no errors, so the refusal to delete goes above the
    whole form, with the item's name."""
    if deleted:
        name = str(form.instance)
        detail = " ".join(str(message) for message in errors.values())
        return InlineRejected(errors={"__all__": f"{name}: {detail}"})
    on_form: dict[str, str] = {}
    for key, message in errors.items():
        name = field_of(str(key)) if key != "__all__" else default
        on_form[name] = f"{on_form[name]} {message}" if name in on_form else str(message)
    return InlineRejected(
        errors={"__all__": gettext("The change was refused: see the errors below.")},
        form_errors={form.prefix: on_form},
    )


def _translation_rejection(errors: dict[str, str], prefixes: dict[str, str]) -> InlineRejected:
    """A product service's errors: translation fields on their locale's form, the rest on the
    product's form."""
    rejected = InlineRejected()
    for key, message in errors.items():
        parts = key.split(".", 2)
        if parts[0] == "translations" and len(parts) == 3 and parts[1] in prefixes:
            rejected.form_errors.setdefault(prefixes[parts[1]], {})[parts[2]] = message
        elif key == "category_ids":
            rejected.errors["categories"] = message
        else:
            rejected.errors[key if key in services.PRODUCT_FIELDS else "__all__"] = message
    if rejected.form_errors and not rejected.errors:
        rejected.errors["__all__"] = gettext("The change was refused: see the errors below.")
    return rejected
