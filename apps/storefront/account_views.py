"""Customer accounts on the storefront: sign-up, login, logout, password reset, the account
page and the address book.

Customers are users of the tenant (its schema), never staff: signing up or logging in here
grants no access to the admin. Every write goes through ``apps.people.services``; these
views only read forms and show pages. Login, sign-up and password-reset POSTs are rate
limited (``apps.core.rate_limits``; 429 with ``Retry-After`` on the themed page, with what
the visitor typed kept except the password). ``next`` is followed only to this host.
The public never sees a login email: the header names a customer by display name.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.commerce import selectors as commerce
from apps.commerce.errors import OrderNotFound
from apps.core.errors import RateLimited
from apps.core.rate_limits import client_ip, rate_limit
from apps.pages.delivery import reader_locale
from apps.people import selectors as people
from apps.people import services as people_services
from apps.people.errors import AddressBookFull, AddressInvalid, AddressNotFound, CustomerInvalid

from .account_forms import AddressForm, LoginForm, SignUpForm, add_errors
from .cart_views import merge_visitor_cart, session_token
from .rate_limits import wait_message
from .shop_money import format_money

LOGIN_URL = reverse_lazy("account:login")
customer_required = login_required(login_url=LOGIN_URL)


def _context(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    locale = reader_locale(request)
    return {"locale": locale, "lang_query": locale.query, **context}


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """An account page: themed, in the reader's locale, never stored by a shared cache."""
    response = render(request, template, _context(request, context), status=status)
    add_never_cache_headers(response)
    return response


def _too_many(
    request: HttpRequest, template: str, context: dict[str, Any], limited: RateLimited
) -> HttpResponse:
    """The form again, as the visitor filled it (not the password), with how long to wait."""
    wait = limited.retry_after
    message = wait_message(wait)
    response = _page(request, template, {**context, "rate_limited": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _next_url(request: HttpRequest) -> str:
    """Where to go after logging in: ``next`` when it stays on this host, else ""."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and allowed else ""


def _account_url(request: HttpRequest) -> str:
    return reverse("account:home") + reader_locale(request).query


def _log_in(request: HttpRequest, user) -> HttpResponse:
    cart_token = session_token(request)
    # Django's login() gives the session a new key and the CSRF token a new value.
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    merge_visitor_cart(request, user, cart_token)
    return HttpResponseRedirect(_next_url(request) or _account_url(request))


# -- login, sign-up, logout -------------------------------------------------------------------


@sensitive_post_parameters("password")
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    context = {"next": _next_url(request)}
    if request.method != "POST":
        return _page(request, "account/login.html", {**context, "form": LoginForm(request)})
    form = LoginForm(request, data=request.POST)
    ip = client_ip(request)
    try:
        rate_limit(request, ("login_ip", ip), ("login_account", f"{ip} {form.account()}"))
    except RateLimited as limited:
        again = LoginForm(request, initial={"email": request.POST.get("email", "")})
        return _too_many(request, "account/login.html", {**context, "form": again}, limited)
    if form.is_valid():
        return _log_in(request, form.user)
    return _page(request, "account/login.html", {**context, "form": form}, status=400)


@sensitive_post_parameters("password", "password_again")
@require_http_methods(["GET", "HEAD", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    context = {"next": _next_url(request)}
    if request.method != "POST":
        return _page(request, "account/signup.html", {**context, "form": SignUpForm()})
    form = SignUpForm(request.POST)
    try:
        rate_limit(request, ("sign_up_ip", client_ip(request)))
    except RateLimited as limited:
        kept = {name: request.POST.get(name, "") for name in ("email", "display_name")}
        again = SignUpForm(initial=kept)
        return _too_many(request, "account/signup.html", {**context, "form": again}, limited)
    if form.is_valid():
        try:
            user = people_services.customer_sign_up(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
                locale=reader_locale(request).current,
            )
        except CustomerInvalid as invalid:
            add_errors(form, invalid.errors)
        else:
            return _log_in(request, user)
    return _page(request, "account/signup.html", {**context, "form": form}, status=400)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return HttpResponseRedirect("/" + reader_locale(request).query)


# -- password reset (Django's views, our templates and limits) --------------------------------


class _Themed:
    """The reader's locale in the context; never cached."""

    def get_context_data(self, **kwargs):
        return _context(self.request, super().get_context_data(**kwargs))

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response


class PasswordResetView(_Themed, auth_views.PasswordResetView):
    template_name = "account/password_reset.html"
    email_template_name = "account/password_reset_email.txt"
    subject_template_name = "account/password_reset_subject.txt"
    success_url = reverse_lazy("account:password_reset_sent")

    def post(self, request, *args, **kwargs):
        try:
            rate_limit(request, ("password_reset_ip", client_ip(request)))
        except RateLimited as limited:
            form = self.form_class(initial={"email": request.POST.get("email", "")})
            return _too_many(request, self.template_name, {"form": form}, limited)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # The link in the mail: this tenant's host (Django's RequestSite), in the reader's locale.
        tenant = getattr(self.request, "tenant", None)
        self.extra_email_context = {
            "shop_name": getattr(tenant, "name", ""),
            "lang_query": reader_locale(self.request).query,
        }
        return super().form_valid(form)


class PasswordResetSentView(_Themed, auth_views.PasswordResetDoneView):
    template_name = "account/password_reset_sent.html"


@method_decorator(sensitive_post_parameters("new_password1", "new_password2"), name="dispatch")
class PasswordResetConfirmView(_Themed, auth_views.PasswordResetConfirmView):
    template_name = "account/password_reset_confirm.html"
    success_url = reverse_lazy("account:password_reset_done")


class PasswordResetDoneView(_Themed, auth_views.PasswordResetCompleteView):
    template_name = "account/password_reset_done.html"


# -- the account page and the address book ---------------------------------------------------


@require_safe
@customer_required
def account_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    locale, query = reader_locale(request).current, reader_locale(request).query
    names = dict(people.countries(locale))
    addresses = [
        {"address": address, "country_name": names.get(address.country, address.country)}
        for address in people.addresses(user.pk)
    ]
    context = {
        "display_name": people.display_name(user),
        "email": user.email or user.get_username(),
        "addresses": addresses,
        "orders": [
            {
                "number": order.number,
                "placed_at": order.placed_at,
                "status_label": order.get_status_display(),
                "total_display": format_money(order.total, order.currency, locale),
                "url": reverse("account:order", args=[order.number]) + query,
            }
            for order in commerce.customer_orders(user.pk)[:50]
        ],
    }
    return _page(request, "account/home.html", context)


def _address_form_page(
    request: HttpRequest, form: AddressForm, *, address_id: int | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "address_id": address_id, "account_url": _account_url(request)}
    return _page(request, "account/address_form.html", context, status=status)


def _address_saved(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(_account_url(request) + "#addresses")


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def address_add(request: HttpRequest) -> HttpResponse:
    locale = reader_locale(request).current
    if request.method != "POST":
        form = AddressForm(locale=locale)
        return _address_form_page(request, form, address_id=None)
    form = AddressForm(request.POST, locale=locale)
    if not form.is_valid():
        return _address_form_page(request, form, address_id=None, status=400)
    try:
        people_services.address_create(
            user_id=request.user.pk,
            data=form.cleaned_data,
            make_default=form.cleaned_data.get("make_default", False),
            actor=people_services.customer_actor(request.user),
        )
    except (AddressInvalid, AddressBookFull) as refused:
        add_errors(form, getattr(refused, "errors", {"": str(refused.detail)}))
        return _address_form_page(request, form, address_id=None, status=refused.status)
    return _address_saved(request)


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def address_edit(request: HttpRequest, address_id: int) -> HttpResponse:
    locale = reader_locale(request).current
    address = people.address_of(request.user.pk, address_id)
    if address is None:
        raise Http404("no such address")
    if request.method != "POST":
        initial = {field: getattr(address, field) for field in people_services.ADDRESS_FIELDS}
        form = AddressForm(locale=locale, initial=initial, adding=False)
        return _address_form_page(request, form, address_id=address.pk)
    form = AddressForm(request.POST, locale=locale, adding=False)
    if not form.is_valid():
        return _address_form_page(request, form, address_id=address.pk, status=400)
    try:
        people_services.address_update(
            user_id=request.user.pk,
            address_id=address.pk,
            data=form.cleaned_data,
            actor=people_services.customer_actor(request.user),
        )
    except AddressNotFound:
        raise Http404("no such address") from None
    except AddressInvalid as invalid:
        add_errors(form, invalid.errors)
        return _address_form_page(request, form, address_id=address.pk, status=invalid.status)
    return _address_saved(request)


def _address_book_action(request: HttpRequest, service, address_id: int) -> HttpResponse:
    """A button of the address book (delete, make default): 404 for another's address."""
    try:
        service(
            user_id=request.user.pk,
            address_id=address_id,
            actor=people_services.customer_actor(request.user),
        )
    except AddressNotFound:
        raise Http404("no such address") from None
    return _address_saved(request)


@require_POST
@customer_required
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    return _address_book_action(request, people_services.address_delete, address_id)


@require_POST
@customer_required
def address_make_default(request: HttpRequest, address_id: int) -> HttpResponse:
    return _address_book_action(request, people_services.address_set_default, address_id)


@customer_required
@require_safe
def account_order(request: HttpRequest, number: int) -> HttpResponse:
    """One of the customer's orders: its lines, totals, status and where it ships."""
    try:
        order = commerce.customer_order(request.user.pk, number)
    except OrderNotFound:
        raise Http404 from None
    locale = reader_locale(request).current

    def money(amount):
        return format_money(amount, order.currency, locale)

    context = {
        "order": order,
        "lines": [
            {"line": line, "unit_price": money(line.unit_price), "total": money(line.total)}
            for line in order.lines.all()
        ],
        "subtotal": money(order.subtotal), "discount": money(order.discount) if order.discount else "",
        "shipping": money(order.shipping_price), "tax": money(order.tax), "total": money(order.total),
    }  # fmt: skip
    return _page(request, "account/order.html", context)
