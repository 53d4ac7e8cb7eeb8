"""ISO 4217 currency codes, from pycountry's copy of the standard."""

import pycountry

ISO_4217: frozenset[str] = frozenset(currency.alpha_3 for currency in pycountry.currencies)
