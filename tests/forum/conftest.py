import pytest
from django_tenants.utils import schema_context

from . import factories


@pytest.fixture
def in_acme(acme):
    with schema_context(acme.schema_name):
        yield acme


@pytest.fixture
def category(in_acme):
    return factories.category(name="Help", description="Questions and answers")


@pytest.fixture
def moderated(in_acme):
    return factories.category(name="Introductions", moderated=True)


@pytest.fixture
def alice(in_acme):
    return factories.member("Alice Example")


@pytest.fixture
def bob(in_acme):
    return factories.member("Bob Example")


@pytest.fixture
def mod(in_acme):
    return factories.moderator("Mia Moderator")
