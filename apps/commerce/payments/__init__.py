"""Payments: the provider interface (``base``), its providers (``manual``, ``test_card``), the
attempts they make (``services``, ``selectors``) and the fake card gateway of dev and tests.

This package's ``__init__`` imports nothing, so that the fake gateway runs as a plain
script (``python -m apps.commerce.payments.fake_gateway``) without Django.
"""
