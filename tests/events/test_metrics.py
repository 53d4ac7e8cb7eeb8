"""/metrics: Prometheus text on the public domain only, optionally behind a bearer token."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.events.support import make_dead_letters, publish_widgets


@pytest.fixture
def dead_letters(clean_events, rds, settings):
    return make_dead_letters(rds, settings)


def samples(response) -> dict[tuple[str, tuple], float]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_report_the_outbox_backlog_and_process_metrics(public_client):
    publish_widgets("acme", "a", "b")
    publish_widgets("globex", "c")
    found = samples(public_client.get("/metrics"))
    assert found[("events_outbox_backlog", ())] == 3
    assert found[("events_outbox_oldest_pending_seconds", ())] >= 0
    names = {name for name, _ in found}
    assert "python_info" in names  # the default registry's platform collector
    assert any(name.startswith("events_dispatch_latency_seconds") for name in names)


def test_metrics_count_deliveries_by_status(dead_letters):
    found = samples(Client(HTTP_HOST=settings.TENANT_BASE_DOMAIN).get("/metrics"))
    assert found[("events_deliveries", (("status", "dead"),))] == 2
    assert found[("events_deliveries", (("status", "blocked"),))] == 1
    assert found[("events_outbox_backlog", ())] == 0


def test_metrics_speak_openmetrics_when_asked(public_client):
    response = public_client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    body = response.content.decode()
    assert "# TYPE events_outbox_backlog gauge" in body
    assert body.endswith("# EOF\n")


def test_metrics_are_not_served_on_tenant_hosts(acme_client):
    assert acme_client.get("/metrics").status_code == 404


def test_metrics_answer_only_reads(public_client):
    assert public_client.post("/metrics").status_code == 405
    assert public_client.head("/metrics").status_code == 200


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", "Basic s3cret-token", "Bearer", "s3cret-token"]
)
def test_metrics_token_is_required_when_configured(public_client, settings, authorization):
    settings.METRICS_TOKEN = "s3cret-token"
    headers = {"Authorization": authorization} if authorization else {}
    response = public_client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"events_outbox_backlog" not in response.content


def test_metrics_with_the_right_token(public_client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    response = public_client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ("events_outbox_backlog", ()) in samples(response)


@pytest.mark.integration
def test_multiprocess_mode_reads_what_other_processes_wrote(public_client, tmp_path, monkeypatch):
    writer = (
        "from prometheus_client import Counter\n"
        "Counter('probe_jobs', 'Jobs done by another process').inc(3)\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", writer], env=env, check=True, timeout=30)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    publish_widgets("acme", "a")
    found = samples(public_client.get("/metrics"))
    assert found[("probe_jobs_total", ())] == 3
    assert found[("events_outbox_backlog", ())] == 1
    assert "python_info" not in {name for name, _ in found}  # only the processes' files
