"""Fixtures of the storefront's tests."""

from __future__ import annotations

import pytest

from tests.clocks import ratelimit_clock
from tests.pages.support import acme_site, globex_site  # noqa: F401


@pytest.fixture
def clock(monkeypatch):
    """django-ratelimit's clock, moved by the test (the storefront forms' limits)."""
    return ratelimit_clock(monkeypatch)
