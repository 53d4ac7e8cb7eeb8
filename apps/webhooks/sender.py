"""One HTTP request to a receiver: to the checked address, never following a redirect.

The connection goes to the address ``addresses.target`` checked, while the Host header
and the TLS server name (and certificate check) use the URL's host name: a DNS answer
that changes between the check and the connection cannot move the request elsewhere.
Nothing here touches the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import urllib3
from django.conf import settings

from .addresses import Target
from .models import RESPONSE_EXCERPT_MAX


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOKS["CONNECT_TIMEOUT_SECONDS"],
        read=settings.WEBHOOKS["READ_TIMEOUT_SECONDS"],
    )
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
            ca_certs=settings.WEBHOOKS["CA_BUNDLE"] or None,
        )  # fmt: skip
    return urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=timeout, retries=False, maxsize=1
    )


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def post(target: Target, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``target``; the status code, or the error that stood in its way."""
    all_headers = {
        "Host": _host_header(target),
        "Content-Type": "application/json",
        "User-Agent": settings.WEBHOOKS["USER_AGENT"],
        **headers,
    }
    started = time.monotonic()
    pool = _pool(target)
    try:
        response = pool.urlopen(
            "POST", target.path, body=body, headers=all_headers, redirect=False,
            retries=False, preload_content=False, assert_same_host=False,
        )  # fmt: skip
        try:
            excerpt = response.read(RESPONSE_EXCERPT_MAX, decode_content=False)
        finally:
            response.release_conn()
        return Outcome(
            status_code=response.status,
            latency_ms=_ms(started),
            excerpt=excerpt.decode("utf-8", "replace").replace("\x00", ""),
        )
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Outcome(None, _ms(started), error=f"{type(error).__name__}: {error}"[:2000])
    finally:
        pool.close()


def _ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))
