"""The behaviour every view set of the API shares, whatever it serves.

``ApiViewSetMixin`` comes first in the bases of each view set registered in
``apps.api.urls`` (a test checks that none lacks it): ``Idempotency-Key`` on POSTs
(``idempotency``) and ``ETag``/``If-None-Match``/``If-Match`` on single resources
(``conditional``). It holds no logic of its own.
"""

from __future__ import annotations

from .conditional import ConditionalRequestsMixin
from .idempotency import IdempotentPostMixin


class ApiViewSetMixin(IdempotentPostMixin, ConditionalRequestsMixin):
    """Idempotent POSTs and conditional requests (see the two modules)."""
