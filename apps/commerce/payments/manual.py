"""Bank transfer: nothing is charged online. The charge is ``pending`` with the instructions
the shopper needs, and the order waits until a merchant marks it paid with the reference
of the transfer they received."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import ChargeRequest, ChargeResult, Outcome, PaymentProvider, register


def bank_details() -> dict[str, str]:
    """Where shoppers send their transfers (``settings.PAYMENT_MANUAL_BANK_DETAILS``)."""
    details = getattr(settings, "PAYMENT_MANUAL_BANK_DETAILS", {}) or {}
    return {name: str(details.get(name, "")) for name in ("account_holder", "iban", "bic", "bank")}


class ManualProvider(PaymentProvider):
    code = "manual"
    label = gettext_lazy("Bank transfer")
    remote = False

    def charge(self, request: ChargeRequest) -> ChargeResult:
        details = bank_details()
        message = _(
            "Please transfer %(amount)s %(currency)s to %(holder)s, IBAN %(iban)s, BIC %(bic)s "
            "(%(bank)s), quoting %(reference)s. We ship your order once the money has arrived."
        ) % {
            "amount": request.amount,
            "currency": request.currency,
            "holder": details["account_holder"],
            "iban": details["iban"],
            "bic": details["bic"],
            "bank": details["bank"],
            "reference": request.reference,
        }
        return ChargeResult(
            outcome=Outcome.PENDING, provider_reference=request.reference, message=message
        )

    def lookup(self, reference: str, idempotency_key: str) -> ChargeResult | None:
        # Nothing outside the shop acts on a transfer before the shopper pays it: an attempt
        # whose answer was never recorded took nothing.
        return None


register(ManualProvider())
