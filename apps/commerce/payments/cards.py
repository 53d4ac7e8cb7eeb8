"""Card numbers: normalization, the Luhn check and the brand. Standard library only, so the
fake gateway (which must run without Django) checks numbers exactly as the shop does."""

from __future__ import annotations

import re

CARD_SEPARATORS = re.compile(r"[\s\-]+")
# Brands by number prefix, most specific first (enough for the test cards and display).
_BRANDS = (
    ("amex", re.compile(r"3[47]")),
    ("mastercard", re.compile(r"5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720)")),
    ("visa", re.compile(r"4")),
    ("discover", re.compile(r"6(011|5)")),
)


def normalize_card_number(number: object) -> str:
    """``number`` without the spaces and dashes people type; "" when it is no string."""
    if not isinstance(number, str):
        return ""
    return CARD_SEPARATORS.sub("", number.strip())


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_brand(digits: str) -> str:
    return next((brand for brand, prefix in _BRANDS if prefix.match(digits)), "unknown")
