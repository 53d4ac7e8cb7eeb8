"""Conditional requests on single resources: ``ETag``, ``If-None-Match`` and ``If-Match``.

Every single-resource ``GET`` answers a strong ``ETag``: ``"v<version>"`` when the
representation carries the resource's ``version`` (bumped by every write of it and of the
parts it aggregates), otherwise ``"<SHA-256 of the JSON representation>"`` (truncated).
``If-None-Match`` with that tag answers 304 without a body.

``PUT``/``PATCH``/``DELETE`` (and their sub-routes such as ``/nodes/{id}/translations/de/``,
where the tag is that of ``/nodes/{id}/``) accept ``If-Match``. The check is not a read
before the write: the view runs inside one transaction that first locks the resource's
row (``lock_through`` names the aggregate's root where a child is written under its
parent's lock, so the order of locks is the services' own), reads the current
representation under that lock, answers 412 on a mismatch and only then calls the view's
service, whose own transaction becomes part of this one. A concurrent writer waits for the
lock and then sees the new version: of two clients that read the same tag and write with
it, exactly one succeeds and the other gets 412, and a 412 changes nothing.

When the tenant requires it (``Tenant.require_if_match``, set by the operators through
``apps.tenancy.services.tenant_update``), a write to a versioned resource without
``If-Match`` answers 428.

Orders keep their ``expected_version`` in the body of a transition (their writes are
``POST`` actions checked by the order's own service under its lock); ``If-Match`` on them
is turned into that same ``expected_version`` by the orders' view set, so the two are one
mechanism. Carts are outside this module: a cart is written by the one shopper holding its
token, and each of its writes locks it.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.http import HttpResponseNotModified
from django.utils.translation import gettext, gettext_lazy
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.core.errors import PlatformError

WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
ANY = "*"
_TAG = re.compile(r'(?:W/)?"[\x21\x23-\x7e]*"')


class PreconditionFailed(PlatformError):
    status = 412
    code = "precondition_failed"
    title = gettext_lazy("Precondition failed")


class PreconditionRequired(PlatformError):
    status = 428
    code = "precondition_required"
    title = gettext_lazy("Precondition required")


def etag_for(data: Any, *, versioned: bool = True) -> str:
    """The strong tag of a representation (``data`` as the view answers it)."""
    version = data.get("version") if versioned and isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool):
        return f'"v{version}"'
    return f'"{hashlib.sha256(JSONRenderer().render(data)).hexdigest()[:32]}"'


def parse_tags(header: str) -> str | list[str]:
    """``ANY`` for ``*``, else the entity tags of a list (``W/`` kept); junk is ignored."""
    header = header.strip()
    return ANY if header == ANY else _TAG.findall(header)


def matches_strongly(tags: str | list[str], current: str) -> bool:
    """``If-Match``'s comparison: a weak tag never matches (RFC 9110 §13.1.1)."""
    return tags == ANY or current in tags


def matches_weakly(tags: str | list[str], current: str) -> bool:
    """``If-None-Match``'s comparison: ``W/`` is ignored (RFC 9110 §13.1.2)."""
    return tags == ANY or current in {tag.removeprefix("W/") for tag in tags}


def if_match_version(request) -> int | None:
    """The version named by ``If-Match: "v<n>"`` (None without one);
    ``PreconditionFailed`` for a tag that names no version."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    tags = parse_tags(raw)
    if tags == ANY:
        return None
    for tag in tags:
        if match := re.fullmatch(r'"v([0-9]{1,9})"', tag):
            return int(match.group(1))
    raise PreconditionFailed(gettext("If-Match names no current version of this resource."))


def tenant_requires_if_match() -> bool:
    return bool(getattr(getattr(connection, "tenant", None), "require_if_match", False))


@contextmanager
def expected_version_precondition(request, body_version: int | None, conflict: type[Exception]):
    """For writes whose service compares an ``expected_version`` under its own lock (orders):
    yields the version to expect, from ``If-Match`` (``"v<n>"``) or else the body's.

    The service's ``conflict`` becomes a 412 when the expectation came from ``If-Match``
    (it stays what it is for the body's ``expected_version``); with neither, a tenant that
    requires ``If-Match`` gets a 428 before anything runs.
    """
    header_version = if_match_version(request)
    expected = header_version if header_version is not None else body_version
    no_precondition = expected is None and request.headers.get("If-Match") is None
    if no_precondition and tenant_requires_if_match():
        raise PreconditionRequired(
            gettext("This site requires If-Match on changes: send the ETag of your last read.")
        )
    try:
        yield expected
    except conflict as error:
        if header_version is None:
            raise
        raise PreconditionFailed(
            gettext("The resource changed since you read it; read it again and retry.")
        ) from error


class ConditionalRequestsMixin:
    """ETags on single-resource reads and ``If-Match`` on writes, for every view set.

    ``lock_through``: the foreign key whose row is locked for ``If-Match`` instead of the
    object's own (a variant is written under its product's lock).
    """

    lock_through: str | None = None

    def _conditional_writes(self) -> bool:
        return (
            isinstance(self, GenericAPIView)
            and getattr(self, "detail", False)
            and hasattr(self, "retrieve")
        )

    def _versioned(self) -> bool:
        model = self.get_queryset().model
        return any(field.name == "version" for field in model._meta.concrete_fields)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in WRITE_METHODS or not self._conditional_writes():
            return
        raw = request.headers.get("If-Match")
        if raw is None:
            if tenant_requires_if_match() and self._versioned():
                raise PreconditionRequired(
                    gettext(
                        "This site requires If-Match on changes: send the ETag of your "
                        "last read of this resource."
                    )
                )
            return
        # DRF looks the handler up after ``initial``: the guarded one runs in its place.
        name = request.method.lower()
        setattr(self, name, self._guarded(getattr(self, name), parse_tags(raw)))

    def _guarded(self, handler, tags):
        def guarded(request, *args, **kwargs):
            with transaction.atomic():
                current = self._locked_etag(request, kwargs)
                if not matches_strongly(tags, current):
                    raise PreconditionFailed(
                        gettext(
                            "The resource changed since you read it (its ETag is now %(etag)s); "
                            "read it again and retry."
                        )
                        % {"etag": current},
                        etag=current,
                    )
                return handler(request, *args, **kwargs)

        return guarded

    def _locked_etag(self, request, kwargs: dict[str, Any]) -> str:
        """Lock the resource's row (or its root's), then the tag of its representation."""
        instance = self.get_object()  # a 404 (or 403) before any lock
        model, pk = type(instance), instance.pk
        if self.lock_through:
            field = model._meta.get_field(self.lock_through)
            model, pk = field.related_model, getattr(instance, field.attname)
        list(model._base_manager.select_for_update(of=("self",)).filter(pk=pk).values("pk"))
        lookup = self.lookup_url_kwarg or self.lookup_field
        answer = self.retrieve(request, **{lookup: kwargs[lookup]})
        return etag_for(answer.data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not isinstance(response, Response) or response.data is None:
            return response
        if not (200 <= response.status_code < 300) or response.has_header("ETag"):
            return response
        if request.method in ("GET", "HEAD") and getattr(self, "detail", False):
            etag = etag_for(response.data, versioned=getattr(self, "action", None) == "retrieve")
            response["ETag"] = etag
            raw = request.headers.get("If-None-Match")
            if raw is not None and matches_weakly(parse_tags(raw), etag):
                not_modified = HttpResponseNotModified()
                not_modified["ETag"] = etag
                return not_modified
        elif (
            request.method in ("PUT", "PATCH")
            and isinstance(response.data, dict)
            and self._conditional_writes()
        ):
            # A change's answer that shows the version: its tag, for the next If-Match.
            version = response.data.get("version")
            if isinstance(version, int) and not isinstance(version, bool):
                response["ETag"] = etag_for(response.data)
        return response
