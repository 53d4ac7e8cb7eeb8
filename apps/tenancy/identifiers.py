"""Sanitizing tenant identifiers: the first thing the resolver does with input.

Nothing here touches the database. Every function either returns a clean,
lowercase identifier or raises ``InvalidIdentifier``; no other exception can
escape, whatever the input (unicode, control characters, 10 kB strings ...).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
HOST_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
SCHEMA_RE = re.compile(r"[a-z0-9][a-z0-9_]{0,62}")
MAX_HOST_LENGTH = 253
# Anything longer than this is not worth looking at: a host with a port.
MAX_RAW_LENGTH = MAX_HOST_LENGTH + 8

RESERVED_SLUGS = frozenset(
    {
        "api",
        "admin",
        "www",
        "app",
        "public",
        "static",
        "media",
        "localhost",
        "mail",
        "ftp",
        "information-schema",
        "information_schema",
        "pg-catalog",
        "pg-toast",
        "postgres",
        "template0",
        "template1",
    }
)
RESERVED_PREFIXES = ("pg-", "pg_")


class InvalidIdentifier(ValueError):
    """The identifier is malformed or reserved. ``reason`` is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def sanitize_slug(raw: object) -> str:
    """Return the tenant slug in ``raw``: trimmed, lowercase, ``^[a-z0-9][a-z0-9-]{0,62}$``."""
    if not isinstance(raw, str):
        raise InvalidIdentifier("tenant identifier must be a string")
    if len(raw) > MAX_RAW_LENGTH:
        raise InvalidIdentifier("tenant identifier is too long")
    slug = raw.strip().lower()
    if not slug:
        raise InvalidIdentifier("tenant identifier is empty")
    if len(slug) > 63:
        raise InvalidIdentifier("tenant identifier is longer than 63 characters")
    if not SLUG_RE.fullmatch(slug):
        raise InvalidIdentifier(
            "tenant identifier may hold only a-z, 0-9 and '-', and must start with a letter or digit"
        )
    if slug in RESERVED_SLUGS or slug.startswith(RESERVED_PREFIXES):
        raise InvalidIdentifier(f"'{slug}' is a reserved name")
    return slug


@dataclass(frozen=True)
class Host:
    name: str
    is_ip: bool = False
    port: str = ""

    @property
    def header(self) -> str:
        """The normalized value of a ``Host`` header for this host."""
        return f"{self.name}:{self.port}" if self.port else self.name


def sanitize_host(raw: object) -> Host:
    """Return the host of a ``Host`` header value: no port, no trailing dot, lowercase.

    Names must follow RFC 1123 (labels of 1-63 letters, digits and hyphens, not
    starting or ending with a hyphen, 253 characters at most). IP literals are
    accepted in their canonical form, IPv6 in brackets.
    """
    if not isinstance(raw, str):
        raise InvalidIdentifier("host must be a string")
    if len(raw) > MAX_RAW_LENGTH:
        raise InvalidIdentifier("host is too long")
    value = raw.strip().lower()
    if not value:
        raise InvalidIdentifier("host is empty")
    if not value.isascii():
        raise InvalidIdentifier("host must be ASCII (use the punycode form of an IDN)")
    if value.startswith("["):
        return _ipv6_literal(value)
    name, sep, port = value.partition(":")
    if sep and (not port.isdigit() or len(port) > 5 or int(port) > 65535):
        raise InvalidIdentifier("host has an invalid port")
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise InvalidIdentifier("host is empty")
    if len(name) > MAX_HOST_LENGTH:
        raise InvalidIdentifier("host is longer than 253 characters")
    labels = name.split(".")
    if not all(HOST_LABEL_RE.fullmatch(label) for label in labels):
        raise InvalidIdentifier("host is not a valid RFC 1123 name")
    if all(label.isdigit() for label in labels):
        try:
            return Host(str(ipaddress.IPv4Address(name)), is_ip=True, port=port)
        except ValueError:
            raise InvalidIdentifier("host is not a valid IPv4 address") from None
    return Host(name, port=port)


def _ipv6_literal(value: str) -> Host:
    end = value.find("]")
    if end == -1:
        raise InvalidIdentifier("host has an unterminated IPv6 literal")
    rest = value[end + 1 :]
    port = rest[1:]
    if rest and not (
        rest.startswith(":") and port.isdigit() and len(port) <= 5 and int(port) <= 65535
    ):
        raise InvalidIdentifier("host has an invalid port")
    try:
        address = ipaddress.IPv6Address(value[1:end])
    except ValueError:
        raise InvalidIdentifier("host is not a valid IPv6 address") from None
    return Host(f"[{address.compressed}]", is_ip=True, port=port)


def schema_name_for(slug: str) -> str:
    """The PostgreSQL schema of a tenant: derived from its slug, deterministically.

    Slugs hold no underscores, so replacing hyphens by underscores is one-to-one.
    """
    schema = sanitize_slug(slug).replace("-", "_")
    if not SCHEMA_RE.fullmatch(schema) or schema.startswith("pg_") or schema == "public":
        raise InvalidIdentifier(f"'{schema}' is not a usable schema name")
    return schema
