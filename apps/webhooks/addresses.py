"""Where a webhook may go: https URLs of public addresses only (SSRF protection).

A URL is checked when an endpoint is registered and again before every request, after
its name is resolved; the request then connects to the address that was checked (see
``sender``), so a name that resolves elsewhere a moment later (DNS rebinding) changes
nothing. Operators may allow plain http (``WEBHOOKS_ALLOW_HTTP``) and private addresses
(``WEBHOOKS_ALLOW_PRIVATE_ADDRESSES``) for development and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext

from .errors import UnsafeUrl

# Cloud metadata services, refused whatever the other checks say.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (tests replace this to add names of their own)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``address``, speak to ``host`` (Host header, TLS name)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address in METADATA_ADDRESSES
        or not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an acceptable URL, else ``UnsafeUrl``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl(gettext("The URL is not valid.")) from None
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeUrl(gettext("A webhook URL must use https."))
    if not parts.hostname:
        raise UnsafeUrl(gettext("The URL names no host."))
    if parts.username or parts.password:
        raise UnsafeUrl(gettext("A webhook URL may not contain a user name or password."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def check_address(address: str) -> None:
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    if _private(ipaddress.ip_address(address.split("%", 1)[0])):
        raise UnsafeUrl(
            gettext(
                "The URL leads to a private, local or reserved address (%(address)s); "
                "webhooks go to public addresses only."
            )
            % {"address": address}
        )


def target(url: str) -> Target:
    """Check ``url`` and every address its host resolves to; the address to connect to."""
    scheme, host, port, path = check_url(url)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise UnsafeUrl(
                gettext("The host %(host)s cannot be resolved.") % {"host": host}
            ) from None
    for address in addresses:
        check_address(address)
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
