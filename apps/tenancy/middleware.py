"""The tenant resolver middleware, in place of django-tenants' ``TenantMainMiddleware``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

from apps.core.errors import PlatformError, ServiceUnavailable
from apps.core.problems import error_response

from .resolver import Public, activate, identify

logger = logging.getLogger(__name__)


class TenantResolverMiddleware:
    """Selects the schema and URLconf of a request, or answers 400/403/404/503 itself.

    Must come first: nothing before it may touch the database or the session.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            target = identify(request)
        except PlatformError as error:
            return error_response(request, error)
        except DatabaseError:
            logger.exception("tenant lookup failed")
            return error_response(
                request, ServiceUnavailable("the platform database is unavailable")
            )
        if isinstance(target, Public):
            self._route_public(request)
        else:
            activate(target)
            target.domain_url = request.get_host()
            request.tenant = target
            request.urlconf = settings.ROOT_URLCONF
        return self.get_response(request)

    @staticmethod
    def _route_public(request: HttpRequest) -> None:
        activate(None)
        request.tenant = connection.tenant
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
