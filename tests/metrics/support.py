"""Reading /metrics as Prometheus would, and the change of a series between two scrapes."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple], float]


def scrape_families(client: Client | None = None) -> list:
    """The families /metrics serves; the connection's schema is the caller's again after."""
    client = client or Client(HTTP_HOST=settings.TENANT_BASE_DOMAIN)
    previous = connection.tenant
    try:
        response = client.get("/metrics")
    finally:
        connection.set_tenant(previous)
    assert response.status_code == 200, response.content[:500]
    return list(text_string_to_metric_families(response.content.decode()))


def scrape(client: Client | None = None) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in scrape_families(client)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` (0 when the series is not there yet: a counter not
    incremented in this process)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def increase(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def series(samples: Samples, name: str) -> dict[tuple, float]:
    """Every sample called ``name``, by its labels."""
    return {labels: found for (sample, labels), found in samples.items() if sample == name}
