import pytest
from django.db import connection

from apps.tenancy.models import Tenant


def _drop(slug: str) -> None:
    Tenant.objects.filter(slug=slug).delete()
    schema = slug.replace("-", "_")
    connection.cursor().execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def cleanup(live_db):
    """Slugs appended to it are dropped after the test (row and schema): for tests whose
    tenants must really commit."""
    created: list[str] = []
    yield created
    for slug in created:
        _drop(slug)
