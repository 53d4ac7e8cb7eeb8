"""The tenant resolver middleware, in place of django-tenants' ``TenantMainMiddleware``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext

from apps.core import modules
from apps.core.errors import ModuleUnavailable, NotFound, PlatformError, ServiceUnavailable
from apps.core.problems import error_response, wants_json

from .models import Tenant
from .resolver import Public, activate, identify
from .selectors import serves

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


# Seconds a client is asked to wait before retrying a module that refused it.
MODULE_RETRY_AFTER = 30


class ModuleGateMiddleware:
    """Applies the module registry to a tenant's request, before the view runs.

    A module the tenant turned off answers 404 (its storefront pages, its API, its admin). A
    module in read-only mode answers writes with 503 and ``Retry-After`` (reads go on); a
    disabled one answers everything so. The switches come with the cached tenant and the modes
    from a cached read: a warm request pays no query here.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        """A module that found its dependency failing mid-request (``ModuleUnavailable``)."""
        if isinstance(exception, ModuleUnavailable):
            return error_response(request, exception)
        return None

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        tenant = getattr(request, "tenant", None)
        if not isinstance(tenant, Tenant):
            return None
        resolved = request.resolver_match
        namespace = resolved.namespace if resolved else None
        found = modules.match(request.path_info, namespace)
        if not found.modules:
            return None
        if not serves(tenant, request.path_info, namespace):
            if wants_json(request):
                return error_response(request, NotFound(gettext("Not found.")))
            raise Http404("module turned off")
        setting = found.mode()
        refused = setting.mode == modules.Mode.DISABLED or (
            setting.mode == modules.Mode.READ_ONLY and request.method not in modules.SAFE_METHODS
        )
        if not refused:
            return None
        logger.warning(
            "refused %s %s: module %s (%s)",
            request.method, request.path_info, setting.mode, setting.reason or "operator",
        )  # fmt: skip
        detail = (
            gettext("This part of the site is read-only for a moment; nothing was changed. "
                    "Please try again in a few minutes.")
            if setting.mode == modules.Mode.READ_ONLY
            else gettext("This part of the site is unavailable for a moment. "
                         "Please try again in a few minutes.")
        )  # fmt: skip
        return error_response(request, ModuleUnavailable(detail, retry_after=MODULE_RETRY_AFTER))
