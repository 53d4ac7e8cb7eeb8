"""Payment attempts: the record of every charge and refund, which nobody adds, edits or deletes.

A merchant reads it to answer "did this shopper pay?" and to find the provider's reference
of a charge; only the card's last four digits and brand are there to show.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from apps.core.admin import short_date, truncated
from apps.events.admin import ReadOnlyAdmin

from ..models import PaymentAttempt
from ..money import Money
from .base import CommerceAdmin

# What the stable error codes mean, for merchants (any other code is shown as it is).
ERROR_LABELS = {
    "timeout": gettext_lazy("timed out: outcome not known yet"),
    "unavailable": gettext_lazy("provider unreachable: outcome not known yet"),
    "not_received": gettext_lazy("never received by the provider: nothing charged"),
    "idempotency_conflict": gettext_lazy("tried again with other details"),
    "gateway_answer": gettext_lazy("unreadable answer from the provider"),
    "gateway_rejected": gettext_lazy("refused by the provider"),
    "card_declined": gettext_lazy("card declined"),
    "insufficient_funds": gettext_lazy("insufficient funds"),
    "expired_card": gettext_lazy("card expired"),
    "incorrect_number": gettext_lazy("incorrect card number"),
    "amount_too_large": gettext_lazy("more than is left of the charge"),
}


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin, CommerceAdmin):
    list_display = [
        "when", "reference", "kind", "provider", "amount_display", "outcome", "card",
        "error", "short_message",
    ]  # fmt: skip
    list_filter = ["provider", "outcome", "kind", "created_at"]
    search_fields = ["reference", "provider_reference"]
    search_help_text = gettext_lazy("Checkout reference or the provider's reference.")
    date_hierarchy = "created_at"
    list_per_page = 100
    fields = [
        "reference", "order_id", "kind", "number", "tries", "provider", "amount", "currency",
        "outcome", "provider_reference", "error_code", "message", "card_last4", "card_brand",
        "idempotency_key", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=gettext_lazy("when"), ordering="created_at")
    def when(self, obj: PaymentAttempt):
        return short_date(obj.created_at)

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_display(self, obj: PaymentAttempt) -> str:
        return str(Money(obj.amount, obj.currency))

    @admin.display(description=gettext_lazy("card"))
    def card(self, obj: PaymentAttempt) -> str:
        return f"{obj.card_brand} •••• {obj.card_last4}" if obj.card_last4 else "-"

    @admin.display(description=gettext_lazy("error"), ordering="error_code")
    def error(self, obj: PaymentAttempt):
        if not obj.error_code:
            return "-"
        label = ERROR_LABELS.get(obj.error_code)
        if label is None:
            return obj.error_code
        return format_html('<span title="{}">{}</span>', obj.error_code, label)

    @admin.display(description=gettext_lazy("message"))
    def short_message(self, obj: PaymentAttempt):
        return truncated(obj.message, 60) if obj.message else "-"
