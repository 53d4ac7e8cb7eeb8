"""What every response carries, and static files served by WhiteNoise before tenant resolution."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import tenant_client

ROOT = Path(__file__).resolve().parents[2]
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "Permissions-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
)


def _assert_secured(response) -> None:
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    assert not missing, f"{response.status_code} answer without {missing}"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("host", "path", "status"),
    [
        ("acme.localhost", "/", 200),
        ("acme.localhost", "/no-such-page/", 404),
        ("localhost", "/", 200),  # the platform page
        ("nope.localhost", "/", 404),  # the resolver's own answers
        ("bad_host!", "/", 400),
        ("acme.localhost", "/health/live", 200),
        ("nope.localhost", "/health/ready", 200),
        ("acme.localhost", "/static/css/site.css", 200),
        ("localhost", "/metrics", 200),
    ],
)
def test_every_response_carries_the_security_headers(db, host, path, status):
    response = Client(HTTP_HOST=host).get(path)
    assert response.status_code == status
    _assert_secured(response)


def test_a_suspended_tenant_answer_carries_them_too(acme, acme_client):
    from apps.tenancy import services

    services.tenant_suspend(slug="acme")
    response = acme_client.get("/")
    assert response.status_code == 403
    _assert_secured(response)


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/../../manage.py",
        "/static/css/%2e%2e/%2e%2e/manage.py",
        "/static/%2e%2e/manage.py",
        "/static/../config/settings/base.py",
        "/static/css/..%2f..%2fmanage.py",
    ],
)
def test_paths_out_of_the_static_folder_are_404_and_leak_nothing(db, path):
    response = tenant_client("acme").get(path)
    assert response.status_code == 404
    body = response.content.decode()
    assert "DATABASE_URL" not in body and "SECRET_KEY" not in body and "import" not in body
    _assert_secured(response)


def test_static_files_are_served_on_any_host_without_a_tenant(db):
    response = Client(HTTP_HOST="nope.localhost").get("/static/css/site.css")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert b"".join(response.streaming_content).strip()


def _prod_check(**env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": "k" * 50 + "-not-for-real-use-" + "x" * 20,
        "METRICS_TOKEN": "metrics-token-for-the-check",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.integration
def test_production_settings_pass_the_deployment_checks():
    result = _prod_check()
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.integration
@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "METRICS_TOKEN"])
def test_production_refuses_to_start_without_its_secrets(missing):
    result = _prod_check(**{missing: ""})
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


@pytest.mark.parametrize("host", ["acme.localhost", "globex.localhost", "localhost"])
def test_every_site_has_a_favicon(db, host):
    response = Client(HTTP_HOST=host).get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
