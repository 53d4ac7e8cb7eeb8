import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.tenancy.identifiers import (
    SLUG_RE,
    InvalidIdentifier,
    sanitize_host,
    sanitize_slug,
    schema_name_for,
)

# What sanitize_slug makes of hostile input: the clean slug, or the start of its refusal.
TOO_LONG = "tenant identifier is too long"
EMPTY = "tenant identifier is empty"
OVER_63 = "tenant identifier is longer than 63 characters"
CHARACTERS = "tenant identifier may hold only a-z, 0-9 and '-'"
NASTY = {
    "": EMPTY,
    " ": EMPTY,
    "../": CHARACTERS,
    "..%2f": CHARACTERS,
    "a/../b": CHARACTERS,
    "'": CHARACTERS,
    '"': CHARACTERS,
    "acme'; DROP SCHEMA public; --": CHARACTERS,
    "%00": CHARACTERS,
    "acme\x00": CHARACTERS,
    "\r\nX-Injected: 1": CHARACTERS,
    "a" * 10_000: TOO_LONG,
    "bücher": CHARACTERS,
    "-acme": CHARACTERS,
    "acme_": CHARACTERS,
    "a" * 64: OVER_63,
    # Schemas of PostgreSQL itself: never a tenant's.
    "public": "'public' is a reserved name",
    "PUBLIC ": "'public' is a reserved name",
    "pg_catalog": CHARACTERS,
    "pg-catalog": "'pg-catalog' is a reserved name",
    "pg-temp": "'pg-temp' is a reserved name",
    "information_schema": CHARACTERS,
    "information-schema": "'information-schema' is a reserved name",
    "www": "'www' is a reserved name",
    "localhost": "'localhost' is a reserved name",
}
CLEANED = {
    "acme\n": "acme",
    "ACME ": "acme",
    "xn--bcher-kva": "xn--bcher-kva",  # the punycode of an IDN is a valid slug
}


@pytest.mark.parametrize(("raw", "refusal"), NASTY.items(), ids=[repr(raw[:20]) for raw in NASTY])
def test_sanitize_slug_refuses_hostile_input(raw, refusal):
    with pytest.raises(InvalidIdentifier) as refused:
        sanitize_slug(raw)
    assert refused.value.reason.startswith(refusal)


@pytest.mark.parametrize(("raw", "slug"), CLEANED.items())
def test_sanitize_slug_cleans_what_only_needs_trimming(raw, slug):
    assert sanitize_slug(raw) == slug


@pytest.mark.parametrize(
    "name", ["public", "pg_catalog", "pg_toast", "pg-catalog", "information_schema", "postgres"]
)
def test_schemas_of_postgresql_are_never_a_tenant_schema(name):
    with pytest.raises(InvalidIdentifier):
        schema_name_for(name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme", "acme"),
        ("  ACME ", "acme"),
        ("a-b-1", "a-b-1"),
        ("9lives", "9lives"),
        ("a" * 63, "a" * 63),
    ],
)
def test_sanitize_slug_normalizes(raw, expected):
    assert sanitize_slug(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
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
        "pg-toast",
        "pg-anything",
        "information-schema",
    ],
)
def test_reserved_names_are_refused(raw):
    with pytest.raises(InvalidIdentifier, match="reserved"):
        sanitize_slug(raw)


@given(st.text(max_size=300))
def test_sanitize_slug_never_raises_anything_else(raw):
    try:
        slug = sanitize_slug(raw)
    except InvalidIdentifier:
        return
    assert SLUG_RE.fullmatch(slug)
    assert slug == raw.strip().lower()


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True))
def test_every_valid_slug_maps_to_a_schema_one_to_one(slug):
    try:
        sanitize_slug(slug)
    except InvalidIdentifier:
        return  # reserved
    schema = schema_name_for(slug)
    assert schema.replace("_", "-") == slug
    assert len(schema) <= 63


@pytest.mark.parametrize(
    ("raw", "name", "port"),
    [
        ("acme.localhost", "acme.localhost", ""),
        ("ACME.Localhost.:8000", "acme.localhost", "8000"),
        ("  shop.example.com ", "shop.example.com", ""),
        ("127.0.0.1:80", "127.0.0.1", "80"),
        ("[::1]:8000", "[::1]", "8000"),
        ("[0:0:0:0:0:0:0:1]", "[::1]", ""),
    ],
)
def test_sanitize_host_normalizes(raw, name, port):
    host = sanitize_host(raw)
    assert (host.name, host.port) == (name, port)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ":80",
        "acme.localhost:http",
        "acme.localhost:99999",
        "-acme.localhost",
        "acme-.localhost",
        "a..b",
        "bücher.example",
        "acme/../x",
        "acme%00.localhost",
        "a" * 64 + ".com",
        ".".join(["abcdefghi"] * 26),
        "[::1",
        "[zz::1]",
        "1.2.3",
        "999.1.1.1",
        "acme.localhost\x00",
        "ac me.localhost",
        "acme.localhost:8000:1",
    ],
)
def test_sanitize_host_rejects_malformed(raw):
    with pytest.raises(InvalidIdentifier):
        sanitize_host(raw)


@given(st.text(max_size=300))
def test_sanitize_host_never_raises_anything_else(raw):
    try:
        host = sanitize_host(raw)
    except InvalidIdentifier:
        return
    assert host.name == host.name.lower()
    assert len(host.name) <= 253 + 2
    assert host.name.isascii()
