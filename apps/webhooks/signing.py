"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``.

The key is the base64-decoded part of the endpoint's ``whsec_`` secret, so any Standard
Webhooks library verifies what is sent here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets: list[str], *, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers; one signature per secret (the current one and, for a while after
    a rotation, the previous one), space-separated as the standard says."""
    signatures = (
        signature(secret, message_id=message_id, timestamp=timestamp, body=body)
        for secret in secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }
