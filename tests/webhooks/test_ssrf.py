"""Webhook URLs that lead to this machine, a private network or a cloud's metadata service
are refused at registration, with the operator settings that allow them off."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.webhooks import addresses, services
from apps.webhooks.errors import UnsafeUrl

pytestmark = pytest.mark.django_db

TEST_NAMES = {
    "rebind.partner.test": ["127.0.0.1"],
    "mixed.partner.test": ["93.184.216.34", "10.1.2.3"],
    "hooks.partner.test": ["93.184.216.34", "2606:2800:220:1::1"],
}


@pytest.fixture(autouse=True)
def strict(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    real = addresses.resolve
    monkeypatch.setattr(
        addresses, "resolve", lambda host, port: TEST_NAMES.get(host) or real(host, port)
    )


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


def test_the_operator_may_allow_private_addresses_and_http(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_ALLOW_HTTP = True
    endpoint, _ = create("http://rebind.partner.test:8080/hook")
    assert endpoint.pk
    settings.WEBHOOKS_ALLOW_HTTP = False
    with pytest.raises(UnsafeUrl):
        create("http://rebind.partner.test:8080/hook")
