"""Merchants' admin of commerce on each tenant's ``admin.site``, one module per resource.

Every write is a call to ``apps.commerce.services``; a refusal is shown on the form field it
names and nothing is saved. Reads of other modules go through their selectors.
"""

from . import catalog, checkout, inventory, orders, payments, products  # noqa: F401 (registers the admins)
