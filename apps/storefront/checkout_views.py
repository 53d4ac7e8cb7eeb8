"""The checkout's steps, at /checkout/: email, address, shipping method, review (with the
voucher), then the payment step's start (the stock is held there).

``/checkout/`` sends the shopper to the first step not done yet; a later step asked for
too early sends them back to it. The cart is the logged-in customer's, else the one whose
token the session holds (``request.session["cart_token"]``); without a cart with lines the
shopper is sent to the shop. Every write is one service call of ``apps.commerce.checkout``;
a refusal shows on the form field it names (400) or as a message, never as a 500. These
pages are private: ``noindex`` and never cached. Their POSTs are rate limited per address
(``STEP_LIMITS``, and ``PAY_LIMITS`` for paying): over a limit, the 429 page of
``apps.storefront.rate_limits`` says how long to wait, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.commerce import checkout as services
from apps.commerce import checkout_selectors as selectors
from apps.commerce.addresses import address_fields, country_choices, country_code
from apps.commerce.errors import (
    CheckoutIncomplete,
    CommerceInvalid,
    OutOfStock,
    ReservationExpired,
    VoucherExhausted,
    VoucherNotApplicable,
)
from apps.commerce.payments.base import providers
from apps.commerce.payments.manual import bank_details
from apps.commerce.payments.selectors import payment_paid_by, payment_paid_earlier
from apps.commerce.placement import checkout_place_order
from apps.commerce.selectors import order_placed_in_session
from apps.core.errors import PlatformError
from apps.pages.delivery import reader_locale

from .rate_limits import limit_posts
from .shop_money import format_money

STEPS = ("email", "address", "shipping", "review")
CART_SESSION_KEY = "cart_token"
# Groups of settings.RATE_LIMITS the POSTs count against, per address: every step's form,
# and paying, tighter (card testing), on top.
STEP_LIMITS = ("checkout_ip",)
PAY_LIMITS = ("checkout_ip", "checkout_pay_ip")


# -- the checkout of this request ----------------------------------------------------------------


def _customer_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _checkout(request: HttpRequest):
    """The checkout of the request's cart, started if needed; None without a cart with lines."""
    cart = selectors.cart_for(
        token=request.session.get(CART_SESSION_KEY), customer_id=_customer_id(request)
    )
    if cart is None:
        return None
    checkout = selectors.checkout_of_cart(cart.pk)
    if checkout is not None:
        return checkout
    email = request.user.email if _customer_id(request) else ""
    try:
        services.checkout_start(cart_id=cart.pk, email=email or "")
    except (CheckoutIncomplete, CommerceInvalid):
        return None
    return selectors.checkout_of_cart(cart.pk)


def _first_incomplete(checkout) -> str:
    if not checkout.email:
        return "email"
    if not checkout.shipping_address:
        return "address"
    if checkout.shipping_method_id is None:
        return "shipping"
    return "review"


def _step_url(step: str, request: HttpRequest) -> str:
    return reverse(f"checkout:{step}") + reader_locale(request).query


def _go(step: str, request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(_step_url(step, request))


def _no_cart(request: HttpRequest) -> HttpResponse:
    messages.info(request, gettext("Your cart is empty."))
    return HttpResponseRedirect(reverse("shop:index") + reader_locale(request).query)


def _respond(request, template: str, checkout, step: str, context: dict[str, Any], status=200):
    locale = reader_locale(request)
    done = STEPS.index(_first_incomplete(checkout))
    steps = [
        {
            "name": name,
            "label": STEP_LABELS[name],
            "url": _step_url(name, request),
            "current": name == step,
            "reachable": index <= done,
        }
        for index, name in enumerate(STEPS)
    ]
    context = {
        "checkout": checkout, "steps": steps, "step": step, "locale": locale,
        "lang_query": locale.query, **context,
    }  # fmt: skip
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


STEP_LABELS = {
    "email": gettext_lazy("Email"),
    "address": gettext_lazy("Address"),
    "shipping": gettext_lazy("Shipping"),
    "review": gettext_lazy("Review"),
}


def _add_errors(form: forms.Form, error: CommerceInvalid, *, prefix: str = "") -> None:
    for name, message in error.errors.items():
        field = name.removeprefix(prefix)
        form.add_error(field if field in form.fields else None, message)


def checkout_step(view):
    """A step's view: the request's checkout (else to the shop), never cached."""

    @never_cache
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        checkout = _checkout(request)
        if checkout is None:
            return _no_cart(request)
        return view(request, checkout, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_http_methods(["GET", "HEAD"])
@checkout_step
def checkout_index(request: HttpRequest, checkout) -> HttpResponse:
    return _go(_first_incomplete(checkout), request)


# -- email ----------------------------------------------------------------------------------------


class EmailForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)


@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts(*STEP_LIMITS)
@checkout_step
def email_step(request: HttpRequest, checkout) -> HttpResponse:
    form = EmailForm(request.POST or None, initial={"email": checkout.email})
    if request.method == "POST":
        if form.is_valid():
            try:
                services.checkout_set_email(
                    checkout_id=checkout.pk, email=form.cleaned_data["email"]
                )
            except CommerceInvalid as error:
                _add_errors(form, error)
            else:
                return _go("address", request)
        return _respond(request, "shop/checkout/email.html", checkout, "email", {"form": form}, 400)
    return _respond(request, "shop/checkout/email.html", checkout, "email", {"form": form})


# -- address --------------------------------------------------------------------------------------


def address_form_class(country: str | None, locale: str) -> type[forms.Form]:
    """A form with the fields an address in ``country`` has (required where the post needs
    them); the country select lists every country by its name in ``locale``."""
    fields: dict[str, forms.Field] = {
        "country": forms.ChoiceField(
            label=gettext("Country"), choices=[("", "---------"), *country_choices(locale)]
        )
    }
    for field in address_fields(country):
        if field.choices:
            fields[field.name] = forms.ChoiceField(
                label=field.label, required=field.required,
                choices=[("", "---------"), *field.choices],
            )  # fmt: skip
        else:
            fields[field.name] = forms.CharField(
                label=field.label, required=field.required, max_length=255
            )
    return type("AddressForm", (forms.Form,), fields)


@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts(*STEP_LIMITS)
@checkout_step
def address_step(request: HttpRequest, checkout) -> HttpResponse:
    if not checkout.email:
        return _go("email", request)
    locale = reader_locale(request).current
    stored = checkout.shipping_address or {}
    asked = request.POST.get("country") if request.method == "POST" else request.GET.get("country")
    country = country_code(asked) or country_code(stored.get("country"))
    form_class = address_form_class(country, locale)
    if request.method == "POST" and "refresh" not in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            try:
                services.checkout_set_address(checkout_id=checkout.pk, address=form.cleaned_data)
            except CommerceInvalid as error:
                _add_errors(form, error)
            else:
                return _go("shipping", request)
        context = {"form": form}
        return _respond(request, "shop/checkout/address.html", checkout, "address", context, 400)
    initial = {**stored, "country": country or ""}
    if request.method == "POST":  # "update the fields" for another country: keep what was typed
        initial.update(
            {key: value for key, value in request.POST.items() if key in form_class.base_fields}
        )
    form = form_class(initial=initial)
    return _respond(request, "shop/checkout/address.html", checkout, "address", {"form": form})


# -- shipping -------------------------------------------------------------------------------------


def _method_choices(checkout, locale: str) -> list[dict[str, Any]]:
    country = (checkout.shipping_address or {}).get("country")
    currency = checkout.cart.currency
    subtotal = selectors.checkout_pricing(checkout).totals
    spent = subtotal.subtotal - subtotal.discount
    choices = []
    for option in selectors.shipping_options(country, currency):
        free = option.rate.free_over is not None and spent >= option.rate.free_over
        choices.append(
            {
                "id": option.method.pk,
                "name": option.method.name_in(locale),
                "price": gettext("free")
                if free
                else format_money(option.rate.price, currency, locale),
                "free_over": (
                    format_money(option.rate.free_over, currency, locale)
                    if option.rate.free_over is not None and not free
                    else ""
                ),
                "chosen": option.method.pk == checkout.shipping_method_id,
            }
        )
    return choices


@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts(*STEP_LIMITS)
@checkout_step
def shipping_step(request: HttpRequest, checkout) -> HttpResponse:
    if _first_incomplete(checkout) in ("email", "address"):
        return _go(_first_incomplete(checkout), request)
    locale = reader_locale(request).current
    try:
        choices = _method_choices(checkout, locale)
    except CheckoutIncomplete as error:
        messages.error(request, error.detail)
        choices = []
    error = ""
    if request.method == "POST":
        try:
            services.checkout_set_shipping(
                checkout_id=checkout.pk, method_id=request.POST.get("shipping_method", "")
            )
        except CommerceInvalid as refused:
            error = next(iter(refused.errors.values()))
        else:
            return _go("review", request)
    context = {"choices": choices, "error": error}
    status = 400 if error else 200
    return _respond(request, "shop/checkout/shipping.html", checkout, "shipping", context, status)


# -- review and voucher ---------------------------------------------------------------------------


def _money_rows(checkout, locale: str) -> dict[str, Any]:
    """The checkout's lines and totals, formatted for ``locale``."""
    pricing = selectors.checkout_pricing(checkout)
    totals = pricing.totals
    currency = totals.currency

    def money(amount):
        return format_money(amount, currency, locale)

    by_id = {line.id: line for line in pricing.lines}
    lines = [
        {
            "title": by_id[line.key].product_title,
            "sku": by_id[line.key].sku,
            "quantity": line.quantity,
            "unit_price": money(line.unit_price),
            "subtotal": money(line.subtotal),
            "discount": money(line.discount) if line.discount else "",
            "tax": money(line.tax),
            "total": money(line.gross),
        }
        for line in totals.lines
    ]
    shipping = totals.shipping
    return {
        "lines": lines,
        "subtotal": money(totals.subtotal),
        "discount": money(totals.discount) if totals.discount else "",
        "voucher_applied": pricing.voucher_applied,
        "shipping_name": pricing.shipping.method.name_in(locale) if pricing.shipping else "",
        "shipping": (
            gettext("free")
            if shipping and shipping.free
            else money(shipping.gross if shipping else 0)
        ),
        "tax": money(totals.tax),
        "total": money(totals.total),
        "tax_rate": f"{(totals.tax_rate * 100).normalize():f} %",
        "prices_include_tax": totals.prices_include_tax,
    }


class VoucherForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Voucher code"), max_length=64)


def _review(request, checkout, *, voucher_form=None, status=200, error="") -> HttpResponse:
    locale = reader_locale(request).current
    try:
        rows = _money_rows(checkout, locale)
    except CheckoutIncomplete as refused:
        rows, error = {}, refused.detail
        status = max(status, 409)
    context = {**rows, "voucher_form": voucher_form or VoucherForm(), "error": error}
    return _respond(request, "shop/checkout/review.html", checkout, "review", context, status)


@require_http_methods(["GET", "HEAD"])
@checkout_step
def review_step(request: HttpRequest, checkout) -> HttpResponse:
    if _first_incomplete(checkout) != "review":
        return _go(_first_incomplete(checkout), request)
    return _review(request, checkout)


@require_POST
@limit_posts(*STEP_LIMITS)
@checkout_step
def voucher_apply(request: HttpRequest, checkout) -> HttpResponse:
    form = VoucherForm(request.POST)
    if "remove" in request.POST:
        services.checkout_remove_voucher(checkout_id=checkout.pk)
        messages.success(request, gettext("The voucher was removed."))
        return _go("review", request)
    if form.is_valid():
        try:
            services.checkout_apply_voucher(
                checkout_id=checkout.pk, code=form.cleaned_data["code"],
                customer_id=_customer_id(request),
            )  # fmt: skip
        except VoucherNotApplicable as refused:
            form.add_error("code", refused.detail)
        else:
            messages.success(request, gettext("The voucher was applied."))
            return _go("review", request)
    return _review(request, selectors.checkout_get(checkout.pk), voucher_form=form, status=400)


# -- the payment step's start ---------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts(*STEP_LIMITS)
@checkout_step
def payment_step(request: HttpRequest, checkout) -> HttpResponse:
    """POST (from the review's button) holds the stock and shows the payment page; GET shows
    it again while the hold lasts, else goes back to the review."""
    if _first_incomplete(checkout) != "review":
        return _go(_first_incomplete(checkout), request)
    if request.method == "POST":
        try:
            checkout, _made = services.checkout_reserve(checkout_id=checkout.pk)
        except (OutOfStock, CheckoutIncomplete, VoucherExhausted) as refused:
            return _review(request, checkout, status=409, error=refused.detail)
        except PlatformError as refused:
            return _review(request, checkout, status=refused.status, error=refused.detail)
        checkout = selectors.checkout_get(checkout.pk)
    elif checkout.reserved_until is None or checkout.reserved_until <= timezone.now():
        return _go("review", request)
    locale = reader_locale(request).current
    try:
        rows = _money_rows(checkout, locale)
    except CheckoutIncomplete as refused:
        return _review(request, checkout, status=409, error=refused.detail)
    return _payment_page(request, checkout, rows)


# -- paying and placing the order --------------------------------------------------------------

# The test gateway's cards, shown on the payment step wherever the test card is offered (it
# never is in production).
TEST_CARDS = (
    ("4242 4242 4242 4242", gettext_lazy("approved")),
    ("4000 0000 0000 0002", gettext_lazy("declined")),
    ("4000 0000 0000 9995", gettext_lazy("declined: insufficient funds")),
    ("4000 0000 0000 0119", gettext_lazy("the gateway does not answer in time")),
)
PLACED_SESSION_KEY = "placed_order"
# Set when the order was paid by an earlier charge, not by the card just entered.
PAID_EARLIER_SESSION_KEY = "placed_order_paid_earlier"


class PaymentForm(forms.Form):
    provider = forms.ChoiceField(label=gettext_lazy("Payment method"), widget=forms.RadioSelect)
    card_number = forms.CharField(
        label=gettext_lazy("Card number"), required=False, max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )  # fmt: skip
    card_expiry_month = forms.IntegerField(
        label=gettext_lazy("Expiry month"), required=False, min_value=1, max_value=12
    )
    card_expiry_year = forms.IntegerField(
        label=gettext_lazy("Expiry year"), required=False, min_value=2000, max_value=2100
    )
    card_cvc = forms.CharField(
        label=gettext_lazy("Security code"), required=False, max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )  # fmt: skip
    card_holder = forms.CharField(
        label=gettext_lazy("Name on the card"), required=False, max_length=100
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(item.code, item.label) for item in providers()]
        if len(self.fields["provider"].choices) == 1:
            self.fields["provider"].initial = self.fields["provider"].choices[0][0]

    def card(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "number": data.get("card_number") or "", "exp_month": data.get("card_expiry_month"),
            "exp_year": data.get("card_expiry_year"), "cvc": data.get("card_cvc") or "",
            "holder": data.get("card_holder") or "",
        }  # fmt: skip


CARD_FIELDS = {"number": "card_number", "exp_month": "card_expiry_month",
               "exp_year": "card_expiry_year", "cvc": "card_cvc", "holder": "card_holder"}  # fmt: skip


def _payment_page(request, checkout, rows, *, form=None, error="", status=200) -> HttpResponse:
    offers_test_card = any(item.code == "test_card" for item in providers())
    context = {
        **rows, "reserved_until": checkout.reserved_until, "form": form or PaymentForm(),
        "error": error, "test_cards": TEST_CARDS if offers_test_card else (),
    }  # fmt: skip
    return _respond(request, "shop/checkout/payment.html", checkout, "payment", context, status)


@require_POST
@limit_posts(*PAY_LIMITS)
@checkout_step
def pay(request: HttpRequest, checkout) -> HttpResponse:
    """Pay and place the order: the confirmation on success; the payment page again, saying
    why, when the card is refused or the gateway is away (the cart and the hold are kept);
    the review when the hold is gone."""
    form = PaymentForm(request.POST)

    def payment_page(**answer) -> HttpResponse:
        # The totals are read for a page shown again only: the placement reads its own.
        try:
            rows = _money_rows(checkout, reader_locale(request).current)
        except CheckoutIncomplete as refused:
            return _review(request, checkout, status=409, error=refused.detail)
        return _payment_page(request, checkout, rows, form=form, **answer)

    if not form.is_valid():
        return payment_page(status=400)
    code = form.cleaned_data["provider"]
    try:
        order = checkout_place_order(
            checkout_id=checkout.pk, provider_code=code,
            card=form.card() if code == "test_card" else None, actor=_actor(request),
        )  # fmt: skip
    except CommerceInvalid as refused:
        for name, message in refused.errors.items():
            field = CARD_FIELDS.get(name.removeprefix("card.")) or (
                "provider" if name == "provider_code" else None
            )
            form.add_error(field if field in form.fields else None, message)
        return payment_page(status=400)
    except (CheckoutIncomplete, ReservationExpired, OutOfStock, VoucherExhausted) as refused:
        return _review(
            request, selectors.checkout_get(checkout.pk), status=409, error=refused.detail
        )
    except PlatformError as refused:  # declined (402), unavailable (503), a payment in flight (409)
        response = payment_page(error=refused.detail, status=refused.status)
        if refused.status == 503:
            response["Retry-After"] = "30"
        return response
    request.session[PLACED_SESSION_KEY] = str(order.pk)
    request.session[PAID_EARLIER_SESSION_KEY] = payment_paid_earlier(
        order, provider_code=code, card_number=form.cleaned_data.get("card_number")
    )
    return HttpResponseRedirect(reverse("checkout:complete") + reader_locale(request).query)


def _actor(request: HttpRequest):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


@never_cache
@require_http_methods(["GET", "HEAD"])
def complete(request: HttpRequest) -> HttpResponse:
    """The order just placed in this session: its number, what it costs, what happens next."""
    order = order_placed_in_session(request.session.get(PLACED_SESSION_KEY))
    if order is None:
        return HttpResponseRedirect(reverse("shop:index") + reader_locale(request).query)
    locale = reader_locale(request)
    context = {
        "order": order, "locale": locale, "lang_query": locale.query,
        "total": format_money(order.total, order.currency, locale.current),
        "bank_details": bank_details() if order.payment_provider == "manual" else None,
        "paid_by": None if order.payment_provider == "manual"
        else payment_paid_by(order.checkout_reference),
        "paid_earlier": request.session.get(PAID_EARLIER_SESSION_KEY, False),
    }  # fmt: skip
    response = render(request, "shop/checkout/complete.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
