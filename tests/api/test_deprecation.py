"""The deprecation mechanism on an operation of its own: headers, schema, the notice it needs."""

from __future__ import annotations

from datetime import date
from email.utils import parsedate_to_datetime

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apps.api.deprecation import Deprecation, deprecated_operation

LEGACY = Deprecation(
    what="GET /legacy/", since=date(2027, 1, 4), sunset=date(2027, 9, 1), use_instead="GET /new/"
)


class Legacy(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    @deprecated_operation(LEGACY)
    def get(self, request):
        response = Response({"ok": True})
        response["Link"] = '</new/>; rel="successor-version"'
        return response

    def post(self, request):
        return Response({"ok": True})


def test_a_deprecated_operation_answers_with_the_headers(settings):
    settings.ALLOWED_HOSTS = ["*"]
    response = Legacy.as_view()(APIRequestFactory().get("/legacy/", HTTP_HOST="shop.test"))
    assert response.data == {"ok": True}
    assert response["Deprecation"] == "@1799020800"  # 2027-01-04T00:00:00Z
    assert parsedate_to_datetime(response["Sunset"]).date() == date(2027, 9, 1)
    # The view's own Link is kept; the policy's relations follow it.
    assert response["Link"].startswith('</new/>; rel="successor-version", <http://shop.test/')
    assert 'rel="deprecation"' in response["Link"] and 'rel="sunset"' in response["Link"]
    other = Legacy.as_view()(APIRequestFactory().post("/legacy/", HTTP_HOST="shop.test"))
    assert "Deprecation" not in other


def test_the_schema_marks_only_the_deprecated_operation():
    schema = SchemaGenerator(patterns=[path("legacy/", Legacy.as_view())]).get_schema(
        request=None, public=True
    )
    operations = schema["paths"]["/legacy/"]
    assert operations["get"]["deprecated"] is True
    assert "2027-09-01" in operations["get"]["description"]
    assert "GET /new/" in operations["get"]["description"]
    assert "deprecated" not in operations["post"]


def test_a_sunset_needs_six_months_notice():
    with pytest.raises(ValueError, match="notice"):
        Deprecation(what="x", since=date(2027, 1, 1), sunset=date(2027, 3, 1))
