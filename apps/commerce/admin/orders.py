"""Orders and customers in the merchants' admin.

An order's row is a projection of its stream, so its page is read-only: the lines, the
addresses, the totals and the timeline (the stream, newest last), and one small form per
transition ``ORDER_TRANSITIONS`` allows from the order's status. Each form posts to a view
of its own that makes one ``order_payments.order_transition_with_payment`` call (a refund
paid back by the card's provider, a transfer's payment confirmed) with the version the page
showed: an order changed meanwhile is a message, never a second change on stale facts. The
"as of" page folds the stream up to a moment (``selectors.order_as_of``).

Customers are storefront accounts (the ``Customer`` proxy): listed with their orders, never
added or deleted here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from apps.core.admin import pretty_json, short_date, truncated
from apps.core.errors import PlatformError
from apps.events.admin import ReadOnlyAdmin
from apps.people.selectors import display_name

from .. import selectors
from ..errors import OrderNotFound, OrderVersionConflict
from ..models import Customer, Order, OrderEmail, OrderEmailState, OrderStatus, PaymentStatus
from ..money import Money
from ..order_emails import order_email_resend, order_emails_send_again
from ..order_payments import order_transition_with_payment
from ..orders import ACTION_DATA, ORDER_TRANSITIONS
from .base import CommerceAdmin

STATUS_COLORS = {
    OrderStatus.PENDING: "commerce-badge--draft",
    OrderStatus.CONFIRMED: "commerce-badge--confirmed",
    OrderStatus.PAID: "commerce-badge--active",
    OrderStatus.FULFILLED: "commerce-badge--active",
    OrderStatus.DELIVERED: "commerce-badge--active",
    OrderStatus.CANCELLED: "commerce-badge--archived",
    OrderStatus.REFUNDED: "commerce-badge--archived",
}

# What each event of a stream is called on the timeline: "placed", then what each
# transition says it did ("marked as paid").
EVENT_LABELS: dict[str, Any] = {
    "commerce.order.placed": gettext_lazy("placed"),
    **{t.event.event_type: t.past for t in ORDER_TRANSITIONS.by_action.values()},
}
ADDRESS_LINES = (("name",), ("company",), ("street",), ("postal_code", "city"), ("region",),
                 ("country",), ("phone",))  # fmt: skip


def money(amount: Decimal, currency: str) -> str:
    return str(Money(amount, currency))


def event_label(event_type: str) -> str:
    return capfirst(str(EVENT_LABELS.get(event_type, event_type)))


def actor_label(entry) -> str:
    return entry.actor_label or entry.actor_id or gettext("the system")


# -- the transitions' forms, their fields named by the service's ``ACTION_DATA`` -------------


def _transition_fields(order: Order) -> dict[str, forms.Field]:
    """Every field an action may take, with what the order suggests for it."""
    return {
        "reference": forms.CharField(label=gettext("payment reference"), max_length=100),
        "amount": forms.DecimalField(
            label=gettext("amount (%(currency)s)") % {"currency": order.currency},
            min_value=0,
            max_digits=20,
            decimal_places=6,
        ),
        "carrier": forms.CharField(label=gettext("carrier"), max_length=100),
        "tracking_number": forms.CharField(label=gettext("tracking number"), max_length=100),
        "reason": forms.CharField(label=gettext("reason"), max_length=500, required=False),
    }


FIELD_ORDER = ("reference", "amount", "carrier", "tracking_number", "reason")


class TransitionForm(forms.Form):
    """The form of one transition: ``expected_version`` (hidden) and the data it takes."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, order: Order, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields["expected_version"].initial = order.version
        taken = ACTION_DATA[action][0]
        every = _transition_fields(order)
        for name in FIELD_ORDER:
            if name in taken:
                self.fields[name] = every[name]
        if "amount" in self.fields:
            refundable = order.paid_amount - order.refunded_amount
            self.fields["amount"].initial = refundable if action == "refund" else order.total
        self.prefix = action

    def data_for_service(self) -> dict[str, Any]:
        return {
            name: value for name, value in self.cleaned_data.items() if name != "expected_version"
        }


def _form_errors(form: forms.Form) -> str:
    return "; ".join(
        f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )


# -- orders --------------------------------------------------------------------------------


class OrderNumberSearch:
    """Mixed into an admin searching by order number: "#1001" is how an order is written
    everywhere else."""

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term.strip().lstrip("#"))


@admin.register(Order)
class OrderAdmin(OrderNumberSearch, CommerceAdmin):
    change_form_template = "admin/commerce/order/change_form.html"
    list_display = ["number_cell", "placed", "customer_cell", "status_badge", "payment_status",
                    "total_cell"]  # fmt: skip
    list_display_links = None
    list_filter = ["status", "payment_status", "payment_provider"]
    date_hierarchy = "placed_at"
    search_fields = ["=number", "email", "=checkout_reference"]
    search_help_text = gettext_lazy("Number, email or checkout reference.")
    list_per_page = 50
    ordering = ["-placed_at", "-number"]
    actions = None
    fieldsets = [
        (None, {"fields": [("number", "status_badge", "payment_status"), ("placed_at", "updated_at",
                                                                       "version")]}),
        (gettext_lazy("Customer"), {"fields": [("customer_cell", "locale"), "cancel_reason"]}),
        (gettext_lazy("Lines"), {"fields": ["lines_table"]}),
        (gettext_lazy("Totals"), {"fields": ["totals_table"]}),
        (gettext_lazy("Payment"), {"fields": [("payment_provider", "payment_reference"),
                                              ("checkout_reference", "voucher_code")]}),
        (gettext_lazy("Shipping"), {"fields": [("shipping_method", "carrier", "tracking_number"),
                                               ("shipping_address_cell", "billing_address_cell")]}),
        (gettext_lazy("Timeline"), {"fields": ["timeline"]}),
    ]  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer__profile")

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.fieldsets for row in options["fields"]
                for name in (row if isinstance(row, tuple) else (row,))]  # fmt: skip

    # Orders are placed by the checkout and changed by their transitions only.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        """The form itself changes nothing (its page is the "view" page); see
        ``may_transition`` for the transitions' forms."""
        return False

    def may_transition(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def display_name(self, obj) -> str:
        return f"#{obj.number}"

    # -- columns and read-only fields

    @admin.display(description=gettext_lazy("number"), ordering="number")
    def number_cell(self, obj: Order):
        return format_html('<a class="list-title" href="{}">#{}</a>', self.url("change", obj.pk),
                           obj.number)  # fmt: skip

    @admin.display(description=gettext_lazy("placed"), ordering="placed_at")
    def placed(self, obj: Order):
        return short_date(obj.placed_at)

    @admin.display(description=gettext_lazy("customer"), ordering="email")
    def customer_cell(self, obj: Order):
        if obj.customer is None:
            return format_html('{}<div class="list-meta">{}</div>', obj.email, gettext("guest"))
        name = selectors.customer_name(obj.customer)
        if name == obj.email:
            return obj.email
        return format_html('{}<div class="list-meta">{}</div>', name, obj.email)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj: Order):
        return format_html('<span class="commerce-badge {}">{}</span>',
                           STATUS_COLORS.get(obj.status, ""), obj.get_status_display())  # fmt: skip

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_cell(self, obj: Order) -> str:
        return money(obj.total, obj.currency)

    @admin.display(description=gettext_lazy("lines"))
    def lines_table(self, obj: Order):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class='numeric'>{}</td>"
            "<td class='numeric'>{}</td><td class='numeric'>{}</td><td class='numeric'>{}</td>"
            "</tr>",
            (
                (line.sku, line.product_title, line.variant_title, line.quantity,
                 money(line.unit_price, obj.currency), money(line.discount, obj.currency),
                 money(line.total, obj.currency))
                for line in obj.lines.all()
            ),
        )  # fmt: skip
        return format_html(
            '<table class="order-lines"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("SKU"), gettext("product"), gettext("variant"), gettext("quantity"),
            gettext("unit price"), gettext("discount"), gettext("total"), rows,
        )  # fmt: skip

    @admin.display(description=gettext_lazy("totals"))
    def totals_table(self, obj: Order):
        return totals_html(obj)

    @admin.display(description=gettext_lazy("shipping address"))
    def shipping_address_cell(self, obj: Order):
        return address_html(obj.shipping_address)

    @admin.display(description=gettext_lazy("billing address"))
    def billing_address_cell(self, obj: Order):
        return address_html(obj.billing_address)

    @admin.display(description=gettext_lazy("timeline"))
    def timeline(self, obj: Order):
        return timeline_html(selectors.order_history(obj.pk))

    # -- the change page: its transitions' forms

    def get_object(self, request, object_id, from_field=None):
        """The order with its customer and its lines (read once for the page)."""
        try:
            key = self.opts.pk.to_python(object_id)
            return self.get_queryset(request).prefetch_related("lines").get(pk=key)
        except (Order.DoesNotExist, ValidationError, ValueError):
            return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        order = self.get_object(request, unquote(object_id))
        if order is not None:
            extra["subtitle"] = gettext("Order #%(number)s") % {"number": order.number}
            extra["as_of_url"] = self.url("as_of", order.pk)
            may_change = self.may_transition(request)
            extra["order_emails"] = [
                (email, email_state_text(email),
                 self.url("send_email", order.pk, email.pk) if may_change else None)
                for email in order.emails.order_by("created_at", "pk")
            ]  # fmt: skip
            if may_change:
                extra["transition_forms"] = [
                    (transition, TransitionForm(order=order, action=transition.action),
                     self.url("transition", order.pk, transition.action))
                    for transition in ORDER_TRANSITIONS.available(order.status)
                ]  # fmt: skip
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/transition/<str:name>/",
                 self.admin_site.admin_view(require_POST(self.transition_view)),
                 name="{}_{}_transition".format(*info)),
            path("<path:object_id>/as-of/", self.admin_site.admin_view(self.as_of_view),
                 name="{}_{}_as_of".format(*info)),
            path("<path:object_id>/emails/<int:email_id>/send/",
                 self.admin_site.admin_view(require_POST(self.send_email_view)),
                 name="{}_{}_send_email".format(*info)),
            *super().get_urls(),
        ]  # fmt: skip

    def transition_view(self, request, object_id, name: str):
        """One transition of one order, with the version the page showed."""
        if not self.may_transition(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404(gettext("No such order."))
        transition = ORDER_TRANSITIONS.get(name)
        if transition is None:
            raise Http404(gettext("No such action."))
        back = HttpResponseRedirect(self.url("change", order.pk))
        form = TransitionForm(request.POST, order=order, action=name)
        if not form.is_valid():
            self.message_user(
                request,
                gettext("Order #%(number)s was not %(done)s: %(errors)s")
                % {"number": order.number, "done": transition.past, "errors": _form_errors(form)},
                messages.ERROR,
            )
            return back
        try:
            order_transition_with_payment(
                order_id=order.pk, action=name, actor=request.user,
                expected_version=form.cleaned_data["expected_version"], **form.data_for_service(),
            )  # fmt: skip
        except OrderVersionConflict:
            self.message_user(
                request, gettext("This order changed meanwhile; reload."), messages.WARNING
            )
        except PlatformError as error:
            details = getattr(error, "errors", None)
            detail = (
                "; ".join(f"{key}: {value}" for key, value in details.items())
                if isinstance(details, dict) and details
                else error.detail
            )
            self.message_user(
                request,
                gettext("Order #%(number)s was not %(done)s: %(errors)s")
                % {"number": order.number, "done": transition.past, "errors": detail},
                messages.ERROR,
            )
        else:
            self.message_user(
                request,
                gettext("Order #%(number)s was %(done)s.")
                % {"number": order.number, "done": transition.past},
                messages.SUCCESS,
            )
        return back

    def send_email_view(self, request, object_id, email_id: int):
        """A merchant's "send again" of one of the order's emails."""
        if not self.may_transition(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None or not order.emails.filter(pk=email_id).exists():
            raise Http404(gettext("No such order email."))
        try:
            email = order_email_resend(email_id=email_id, actor=request.user)
        except PlatformError as refused:
            self.message_user(request, refused.detail, messages.WARNING)
        else:
            report_resend(self, request, email)
        return HttpResponseRedirect(f"{self.url('change', order.pk)}#order-emails")

    def as_of_view(self, request, object_id):
        """The order as its stream says it was at ``?at=`` (an ISO date and time)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404(gettext("No such order."))
        raw = request.GET.get("at", "").strip()
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "order": order,
            "title": gettext("Order #%(number)s as of a moment") % {"number": order.number},
            "change_url": self.url("change", order.pk),
            "at_value": raw,
        }
        if raw:
            at = parse_moment(raw)
            if at is None:
                context["problem"] = gettext(
                    "“%(value)s” is not a date and time; give one like 2026-01-31T14:30."
                ) % {"value": raw}
            else:
                context["at"] = at
                context["at_value"] = timezone.localtime(at).strftime("%Y-%m-%dT%H:%M:%S")
                try:
                    state = selectors.order_as_of(order.pk, at)
                except OrderNotFound:
                    context["problem"] = gettext(
                        "Order #%(number)s had not been placed yet at %(time)s; it was placed "
                        "at %(placed)s."
                    ) % {
                        "number": order.number,
                        "time": short_date(at),
                        "placed": short_date(order.placed_at),
                    }
                else:
                    history = [
                        e for e in selectors.order_history(order.pk) if e.version <= state.version
                    ]
                    context.update(
                        state=state,
                        status_label=OrderStatus(state.status).label,
                        payment_label=PaymentStatus(state.payment_status).label,
                        lines=[
                            (line, money(line.unit_price, state.currency),
                             money(line.total, state.currency))
                            for line in state.lines
                        ],
                        totals=totals_html(state),
                        paid=money(state.paid_amount, state.currency),
                        refunded=money(state.refunded_amount, state.currency),
                        timeline=timeline_html(history),
                    )  # fmt: skip
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/commerce/order/as_of.html", context)


def parse_moment(raw: str) -> datetime | None:
    """An ISO date and time (``2026-01-31T14:30``, with or without an offset; a naive one is
    in the current time zone); ``None`` for anything else. A "+" of an offset that a query
    string turned into a space is put back."""
    candidates = [raw]
    if " " in raw:
        head, _, tail = raw.rpartition(" ")
        candidates.append(f"{head}+{tail}")
    for candidate in candidates:
        try:
            moment = parse_datetime(candidate)
        except ValueError:
            moment = None
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            return moment
    return None


def totals_html(order) -> str:
    """Subtotal, discount, shipping, tax, total, paid and refunded of an order (a row or a
    folded state)."""
    rows = [
        (gettext("subtotal"), order.subtotal), (gettext("discount"), -order.discount),
        (gettext("shipping"), order.shipping_price), (gettext("total"), order.total),
        (gettext("of which tax"), order.tax), (gettext("paid"), order.paid_amount),
        (gettext("refunded"), order.refunded_amount),
    ]  # fmt: skip
    return format_html(
        '<table class="order-totals"><tbody>{}</tbody></table>',
        format_html_join(
            "", "<tr><th>{}</th><td class='numeric'>{}</td></tr>",
            ((label, money(amount, order.currency)) for label, amount in rows),
        ),
    )  # fmt: skip


def address_html(address: dict[str, str]):
    lines = [
        " ".join(address.get(name, "") for name in names if address.get(name)).strip()
        for names in ADDRESS_LINES
    ]
    lines = [line for line in lines if line]
    if not lines:
        return "-"
    return format_html(
        "<address>{}</address>", format_html_join("", "{}<br>", ((line,) for line in lines))
    )


def timeline_html(entries) -> str:
    """The events, oldest first: time, who, what, and the payload behind a disclosure."""
    items = format_html_join(
        "",
        '<li class="order-event" data-version="{}"><span class="order-event-time">{}</span> '
        '<strong class="order-event-type">{}</strong> <span class="order-event-actor">{}</span>'
        "<details><summary>{}</summary>{}</details></li>",
        (
            (entry.version, short_date(entry.occurred_at), event_label(entry.type),
             gettext("by %(actor)s") % {"actor": actor_label(entry)}, gettext("details"),
             pretty_json(entry.payload))
            for entry in entries
        ),
    )  # fmt: skip
    return format_html('<ol class="order-timeline">{}</ol>', items)


# -- order emails ----------------------------------------------------------------------------


def _sentence(template: str, **values):
    """A translated ``template`` (``%(name)s`` placeholders) with ``values``, escaped unless
    they are HTML already (``short_date``)."""
    return mark_safe(  # noqa: S308 (the template and every value are escaped here)
        conditional_escape(template) % {k: conditional_escape(v) for k, v in values.items()}
    )


def _moment(moment) -> str:
    """A date with its time (a retry minutes away needs the time to say anything)."""
    when = timezone.localtime(moment)
    return format_html(
        '<time class="nowrap" datetime="{}">{}</time>',
        when.isoformat(), date_format(when, "SHORT_DATETIME_FORMAT"),
    )  # fmt: skip


def email_state_text(email: OrderEmail):
    """What became of an email, in a sentence: when it was sent, when it is tried next, or
    that it was not sent and why."""
    state = email.state
    if state == OrderEmailState.SENT:
        return _sentence(gettext("Sent %(time)s."), time=_moment(email.sent_at))
    if state == OrderEmailState.WAITING and not email.last_error:
        return _sentence(
            gettext("Being sent (attempt %(attempt)s); checked again %(time)s."),
            attempt=email.attempts, time=_moment(email.next_attempt_at),
        )  # fmt: skip
    if state == OrderEmailState.WAITING:
        return _sentence(
            gettext("Attempt %(attempt)s failed (%(error)s); tried again %(time)s."),
            attempt=email.attempts, error=truncated(email.last_error, 120),
            time=_moment(email.next_attempt_at),
        )  # fmt: skip
    if email.last_error:
        return _sentence(
            gettext("Not sent after %(attempts)s attempts (%(error)s)."),
            attempts=email.attempts, error=truncated(email.last_error, 120),
        )  # fmt: skip
    return gettext("Not sent: it may not have reached the mail server.")


def report_resend(model_admin, request, email: OrderEmail) -> None:
    """Tell the merchant what came of a "send again"."""
    values = {"kind": email.get_kind_display(), "number": email.order.number,
              "recipient": email.recipient}  # fmt: skip
    if email.sent_at is not None:
        model_admin.message_user(
            request,
            gettext("%(kind)s of order #%(number)s sent again to %(recipient)s.") % values,
            messages.SUCCESS,
        )
        return
    retry = email.next_attempt_at
    model_admin.message_user(
        request,
        gettext("%(kind)s of order #%(number)s was not sent to %(recipient)s: %(error)s. It "
                "is tried again %(time)s.")
        % {**values, "error": email.last_error,
           "time": date_format(timezone.localtime(retry), "DATETIME_FORMAT") if retry else "-"},
        messages.ERROR,
    )  # fmt: skip


class EmailStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return OrderEmailState.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value == OrderEmailState.SENT:
            return queryset.filter(sent_at__isnull=False)
        if value == OrderEmailState.WAITING:
            return queryset.filter(sent_at__isnull=True, next_attempt_at__isnull=False)
        if value == OrderEmailState.NOT_SENT:
            return queryset.filter(sent_at__isnull=True, next_attempt_at__isnull=True)
        return queryset


@admin.register(OrderEmail)
class OrderEmailAdmin(OrderNumberSearch, ReadOnlyAdmin, CommerceAdmin):
    """Every order email and what became of it: a merchant finds the ones the mail server
    refused and sends them again."""

    list_display = ["created", "order_cell", "kind", "recipient", "state_cell"]
    list_display_links = None
    list_filter = [EmailStateFilter, "kind"]
    search_fields = ["=order__number", "recipient"]
    search_help_text = gettext_lazy("Order number or recipient.")
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    list_per_page = 100
    actions = ["send_again"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("commerce.change_order")

    @admin.display(description=gettext_lazy("created"), ordering="created_at")
    def created(self, obj: OrderEmail):
        return short_date(obj.created_at)

    @admin.display(description=gettext_lazy("order"), ordering="order__number")
    def order_cell(self, obj: OrderEmail):
        url = self.change_url(Order, obj.order_id)
        return format_html('<a href="{}">#{}</a>', url, obj.order.number)

    @admin.display(description=gettext_lazy("state"))
    def state_cell(self, obj: OrderEmail):
        return email_state_text(obj)

    @admin.action(description=gettext_lazy("Send again"), permissions=["resend"])
    def send_again(self, request, queryset):
        """Hands the emails to beat's next retry run: a mail server that is slow or still
        refusing never holds the merchant's request up."""
        chosen = list(queryset.values_list("pk", flat=True))
        queued = order_emails_send_again(email_ids=chosen, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d email will be sent within a minute.",
                "%(count)d emails will be sent within a minute.",
                queued,
            ) % {"count": queued},
            messages.SUCCESS,
        )  # fmt: skip
        if queued < len(chosen):
            self.message_user(
                request,
                ngettext(
                    "%(count)d email is being sent already and was left as it is.",
                    "%(count)d emails are being sent already and were left as they are.",
                    len(chosen) - queued,
                ) % {"count": len(chosen) - queued},
                messages.WARNING,
            )  # fmt: skip


# -- customers -------------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(CommerceAdmin):
    list_display = ["email", "name", "joined", "orders_count"]
    search_fields = ["email", "profile__display_name", "first_name", "last_name"]
    search_help_text = gettext_lazy("Email or name.")
    ordering = ["-date_joined"]
    list_per_page = 50
    actions = None
    fields = ["email", "name", "date_joined", "last_login", "orders_count", "orders_table"]
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.customers()

    # Customers sign up in the storefront; their accounts are theirs to change.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def display_name(self, obj) -> str:
        return selectors.customer_name(obj)

    @admin.display(description=gettext_lazy("display name"), ordering="profile__display_name")
    def name(self, obj) -> str:
        return display_name(obj) or "-"

    @admin.display(description=gettext_lazy("joined"), ordering="date_joined")
    def joined(self, obj):
        return short_date(obj.date_joined)

    @admin.display(description=gettext_lazy("orders"), ordering="orders_count")
    def orders_count(self, obj) -> int:
        return obj.orders_count

    @admin.display(description=gettext_lazy("orders"))
    def orders_table(self, obj):
        rows = [
            (self._order_url(order), order.number, short_date(order.placed_at),
             order.get_status_display(), money(order.total, order.currency))
            for order in selectors.customer_orders(obj.pk)
        ]  # fmt: skip
        if not rows:
            return gettext("No orders yet.")
        return format_html(
            '<table class="customer-orders"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("number"), gettext("placed"), gettext("status"), gettext("total"),
            format_html_join(
                "", '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>', rows
            ),
        )  # fmt: skip

    def _order_url(self, order) -> str:
        return self.admin_site._registry[Order].url("change", order.pk)
