"""Cards, through the fake card gateway (``fake_gateway``) that stands for an outside processor.

Every call carries the attempt's ``Idempotency-Key``, so a retry after a timeout is
answered with the first call's result instead of charging again. The calls go through a
circuit breaker: after a few failures in a row (timeouts, refused connections, 5xx) the
provider answers ``failed`` at once, without calling the gateway, until the breaker lets
a trial call through. A declined card is an answer, not a failure. Only the last four
digits and the brand of a card are ever logged.
"""

from __future__ import annotations

import logging

import pybreaker
import requests
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.breakers import breaker
from apps.core.error_policy import Action, TransientError, Unrecovered, policy

from .base import (
    ChargeRequest,
    ChargeResult,
    Outcome,
    PaymentProvider,
    RefundRequest,
    register,
)

logger = logging.getLogger(__name__)

BREAKER = "payments.test_card"
UNAVAILABLE = "unavailable"
TIMEOUT = "timeout"
IN_PROGRESS = "in_progress"


class GatewayFailed(TransientError):
    """The gateway answered with a server error, or could not be reached: counted by the
    breaker like a timeout, and tried again (same idempotency key) by the payments policy."""


def _decline_messages() -> dict[str, str]:
    return {
        "card_declined": _("Your card was declined."),
        "insufficient_funds": _("Your card has insufficient funds."),
        "expired_card": _("Your card has expired."),
        "incorrect_number": _("Your card number is incorrect."),
        "amount_too_large": _("The refund is larger than what is left of the payment."),
    }


def gateway_breaker() -> pybreaker.CircuitBreaker:
    return breaker(
        BREAKER,
        fail_max=settings.TEST_CARD_BREAKER_FAIL_MAX,
        reset_timeout=settings.TEST_CARD_BREAKER_RESET_SECONDS,
    )


def _post(path: str, body: dict, key: str) -> requests.Response:
    timeout = float(settings.TEST_CARD_GATEWAY_TIMEOUT)
    try:
        response = requests.post(
            settings.TEST_CARD_GATEWAY_URL.rstrip("/") + path,
            json=body,
            headers={"Idempotency-Key": key},
            timeout=(timeout, timeout),
        )
    except requests.Timeout:
        raise  # the gateway may have acted: not retried in this request
    except requests.RequestException as exc:
        raise GatewayFailed(f"{path}: {type(exc).__name__}") from exc
    if response.status_code >= 500:
        raise GatewayFailed(f"{path} answered {response.status_code}")
    return response


def _get(path: str, params: dict) -> requests.Response:
    timeout = float(settings.TEST_CARD_GATEWAY_TIMEOUT)
    try:
        response = requests.get(
            settings.TEST_CARD_GATEWAY_URL.rstrip("/") + path,
            params=params,
            timeout=(timeout, timeout),
        )
    except requests.RequestException as exc:  # a look-up changes nothing: safe to try again
        raise GatewayFailed(f"{path}: {type(exc).__name__}") from exc
    if response.status_code >= 500:
        raise GatewayFailed(f"{path} answered {response.status_code}")
    return response


def _unknown_yet(error_code: str) -> ChargeResult:
    """A look-up that cannot tell (the payment service words the refusal)."""
    return ChargeResult(outcome=Outcome.FAILED, error_code=error_code)


def _unavailable() -> ChargeResult:
    return ChargeResult(
        outcome=Outcome.FAILED,
        error_code=UNAVAILABLE,
        message=_("The card service is unavailable; nothing was charged. Try again in a minute."),
    )


def _call(path: str, body: dict, key: str, *, what: str) -> ChargeResult:
    """One call through the breaker, as the "payments" error policy decides: a 5xx or a
    refused connection is tried again with the same key; an open breaker falls back to
    "unavailable" at once; a timeout fails (the shopper's next try uses the same key)."""
    try:
        response = policy("payments").call(gateway_breaker().call, _post, path, body, key)
    except Unrecovered as gave_up:
        if gave_up.decision.action is Action.FALLBACK:
            logger.warning("test_card %s refused: the breaker is open (%s)", what, key)
            return _unavailable()
        if isinstance(gave_up.error, requests.Timeout):
            logger.warning("test_card %s timed out (%s)", what, key)
            return ChargeResult(
                outcome=Outcome.FAILED,
                error_code=TIMEOUT,
                message=_("The card service timed out. Try again: a retry is never charged twice."),
            )
        logger.warning(
            "test_card %s failed after %s tries (%s): %s",
            what, gave_up.attempts, key, type(gave_up.error).__name__,
        )  # fmt: skip
        return _unavailable()
    return _result(response)


def _result(response: requests.Response) -> ChargeResult:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return ChargeResult(
            outcome=Outcome.FAILED,
            error_code="gateway_answer",
            message=_("The card service gave an answer we could not read; nothing was charged."),
        )
    reference = str(answer.get("id") or "")[:100]
    if response.status_code in (200, 201) and answer.get("status") == "succeeded":
        return ChargeResult(outcome=Outcome.APPROVED, provider_reference=reference)
    if response.status_code == 402:
        code = str(answer.get("decline_code") or "declined")[:64]
        return ChargeResult(
            outcome=Outcome.DECLINED,
            provider_reference=reference,
            error_code=code,
            message=_decline_messages().get(code, _("The payment was declined.")),
        )
    if response.status_code == 422:
        return ChargeResult(
            outcome=Outcome.FAILED,
            error_code="idempotency_conflict",
            message=_(
                "This payment was already tried with other details; start the payment again."
            ),
        )
    return ChargeResult(
        outcome=Outcome.FAILED,
        error_code=str(answer.get("error") or "gateway_rejected")[:64],
        message=_("The card service refused the request; nothing was charged."),
    )


class TestCardProvider(PaymentProvider):
    __test__ = False  # not a test class, whatever pytest thinks of its name

    code = "test_card"
    label = gettext_lazy("Card (test gateway)")
    needs_card = True
    refunds = True

    def charge(self, request: ChargeRequest) -> ChargeResult:
        card = request.card
        if card is None:
            raise ValueError("a test_card charge needs card details")
        body = {
            "amount": str(request.amount),
            "currency": request.currency,
            "reference": request.reference,
            "card": {
                "number": card.number,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "cvc": card.cvc,
            },
        }
        what = f"charge of {card.brand} *{card.last4}"
        return _call("/v1/charges", body, request.idempotency_key, what=what)

    def refund(self, request: RefundRequest) -> ChargeResult:
        body = {
            "charge": request.charge_reference,
            "amount": str(request.amount),
            "currency": request.currency,
        }
        return _call("/v1/refunds", body, request.idempotency_key, what="refund")

    def lookup(self, reference: str, idempotency_key: str) -> ChargeResult | None:
        """The gateway's charges of ``reference`` made with ``idempotency_key`` (a real
        processor finds them by the key it keeps in the charge's metadata)."""
        params = {"reference": reference, "idempotency_key": idempotency_key}
        try:
            response = policy("payments").call(gateway_breaker().call, _get, "/v1/charges", params)
        except Unrecovered as gave_up:
            logger.warning(
                "test_card look-up of %s failed (%s): %s",
                idempotency_key, gave_up.decision.action.name, type(gave_up.error).__name__,
            )  # fmt: skip
            return _unknown_yet(UNAVAILABLE)
        try:
            found = response.json()["data"] if response.status_code == 200 else None
        except (ValueError, KeyError, TypeError):
            found = None
        if not isinstance(found, list):
            logger.warning("test_card look-up of %s: unreadable answer", idempotency_key)
            return _unknown_yet("gateway_answer")
        charges = [
            c for c in found if isinstance(c, dict) and c.get("idempotency_key") == idempotency_key
        ]
        by_status = {str(c.get("status")): c for c in charges}
        if "succeeded" in by_status:
            charge = by_status["succeeded"]
            return ChargeResult(
                outcome=Outcome.APPROVED, provider_reference=str(charge.get("id") or "")[:100]
            )
        if "processing" in by_status:
            return _unknown_yet(IN_PROGRESS)
        if "declined" in by_status:
            charge = by_status["declined"]
            code = str(charge.get("decline_code") or "declined")[:64]
            return ChargeResult(
                outcome=Outcome.DECLINED,
                provider_reference=str(charge.get("id") or "")[:100],
                error_code=code,
                message=_decline_messages().get(code, _("The payment was declined.")),
            )
        return None


register(TestCardProvider())
