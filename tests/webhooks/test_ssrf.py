"""Webhook URLs that lead to this machine, a private network or a cloud's metadata service
are refused at registration, with the operator settings that allow them off."""

from __future__ import annotations

import socket

import pytest
from django_tenants.utils import schema_context
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.webhooks import addresses, services
from apps.webhooks.errors import UnsafeUrl

pytestmark = pytest.mark.django_db

_system_resolve = addresses.resolve

TEST_NAMES = {
    "rebind.partner.test": ["127.0.0.1"],
    "mixed.partner.test": ["93.184.216.34", "10.1.2.3"],
    "hooks.partner.test": ["93.184.216.34", "2606:2800:220:1::1"],
}


@pytest.fixture(autouse=True)
def strict(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(addresses, "resolve", _test_resolver)


def _test_resolver(host: str, port: int) -> list[str]:
    """The test names; ``localhost`` and numeric forms (``2130706433``) as the system
    resolves them; any other name is public (there is no network here to ask)."""
    if host in TEST_NAMES:
        return TEST_NAMES[host]
    try:
        socket.inet_aton(host)
        numeric = True
    except OSError:
        numeric = False
    if numeric or host == "localhost" or host.endswith(".invalid"):
        return _system_resolve(host, port)
    return ["93.184.216.34"]


def create(url: str):
    with schema_context("acme"):
        return services.endpoint_create(url=url, event_types=["*"])


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",  # the system resolver's name for the loopback
        "https://rebind.partner.test/hook",  # a name that resolves to 127.0.0.1
        "https://mixed.partner.test/hook",  # one of its addresses is private
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://100.64.0.1/hook",  # shared address space (carrier NAT)
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "https://240.0.0.1/hook",
        "https://2130706433/hook",  # 127.0.0.1 written as one number
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(url):
    with pytest.raises(UnsafeUrl):
        create(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.partner.test/hook",  # plain http
        "ftp://hooks.partner.test/hook",
        "https://user:pw@hooks.partner.test/hook",
        "https:///hook",
        "https://hooks.partner.test:99999/hook",
        "https://no-such-name.invalid/hook",
    ],
)
def test_other_unusable_urls_are_refused(url):
    with pytest.raises(UnsafeUrl):
        create(url)


def test_a_public_https_url_is_accepted():
    endpoint, secret = create("https://hooks.partner.test/hook")
    assert endpoint.pk and secret.startswith("whsec_")


def test_the_operator_may_allow_private_addresses_and_http(settings):  # the fixture
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_ALLOW_HTTP = True
    endpoint, _ = create("http://rebind.partner.test:8080/hook")
    assert endpoint.pk
    settings.WEBHOOKS_ALLOW_HTTP = False
    with pytest.raises(UnsafeUrl):
        create("http://rebind.partner.test:8080/hook")


@given(url=st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_text_is_a_url_or_a_clear_refusal(url):
    try:
        target = addresses.target(url)
    except UnsafeUrl as refused:
        assert str(refused.detail)
    else:
        assert target.scheme == "https" and target.address not in ("127.0.0.1", "10.1.2.3")


@given(
    address=st.one_of(
        st.ip_addresses(network="10.0.0.0/8"),
        st.ip_addresses(network="127.0.0.0/8"),
        st.ip_addresses(network="169.254.0.0/16"),
        st.ip_addresses(network="172.16.0.0/12"),
        st.ip_addresses(network="192.168.0.0/16"),
        st.ip_addresses(network="fc00::/7"),
        st.ip_addresses(network="fe80::/10"),
        st.ip_addresses(network="::ffff:127.0.0.0/104"),
    )
)
@settings(max_examples=200, deadline=None)
def test_every_private_address_is_refused_however_it_is_reached(address):
    literal = f"[{address}]" if address.version == 6 else str(address)
    with pytest.raises(UnsafeUrl):
        addresses.target(f"https://{literal}/hook")
    TEST_NAMES["generated.partner.test"] = [str(address)]
    with pytest.raises(UnsafeUrl):
        addresses.target("https://generated.partner.test/hook")
