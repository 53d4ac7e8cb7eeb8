"""The OpenAPI schema and Swagger UI."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

RESOURCES = ("nodes", "posts", "pages", "categories", "tags", "media")


def test_schema_lists_every_endpoint(acme_client):
    response = acme_client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for resource in RESOURCES:
        assert f"/api/v1/{resource}/" in paths
        assert f"/api/v1/{resource}/{{id}}/" in paths
    for action in ("publish", "unpublish", "archive", "restore", "schedule"):
        assert f"/api/v1/posts/{{id}}/{action}/" in paths
        assert "409" in paths[f"/api/v1/posts/{{id}}/{action}/"]["post"]["responses"]
    assert "put" in paths["/api/v1/nodes/{id}/translations/{locale}/"]
    assert "multipart/form-data" in paths["/api/v1/media/"]["post"]["requestBody"]["content"]
    listing = paths["/api/v1/nodes/"]["get"]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert {"status", "kind", "category", "tag", "locale", "ordering", "page", "page_size"} <= names
    bad_input = listing["responses"]["400"]["content"]["application/problem+json"]["schema"]
    assert bad_input == {"$ref": "#/components/schemas/Problem"}
    assert "problem+json" in schema["info"]["description"]


def test_schema_as_json(acme_client):
    response = acme_client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    assert "/api/v1/posts/{id}/publish/" in response.json()["paths"]


def test_swagger_ui_runs_under_the_content_security_policy(acme_client):
    response = acme_client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page and "script-src 'self'" in response["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts)  # nothing inline
    (start_up,) = [
        src for src in re.findall(r'<script src="([^"]+)"', page) if "script" in src.split("?")[-1]
    ]
    script = acme_client.get(html.unescape(start_up))
    assert script.status_code == 200 and b"/api/v1/schema/" in script.content


def test_schema_generates_without_warnings_and_validates(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yaml"))
    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3")
