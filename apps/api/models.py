"""The API's own table: stored first answers of POSTs sent with an ``Idempotency-Key``.

It lives in every tenant schema (``apps.api`` is a tenant app), so a tenant's keys are
its own, the rows survive a Redis flush, and they are written by the same database that
holds the effect. Nothing outside ``apps.api.idempotency`` reads or writes it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy


class IdempotentResponse(models.Model):
    """The first answer to one ``(principal, method, path, Idempotency-Key)``, kept 24 hours.

    ``scope`` is the SHA-256 of those four parts (one short unique index whatever the
    length of a path); the parts are kept beside it for people who inspect a row.
    ``fingerprint`` is the SHA-256 of the request's canonical body, which a retry must repeat.
    """

    scope = models.CharField(gettext_lazy("scope"), max_length=64, unique=True)
    principal = models.CharField(gettext_lazy("principal"), max_length=64)
    method = models.CharField(gettext_lazy("method"), max_length=8)
    path = models.TextField(gettext_lazy("path"))
    key = models.CharField(gettext_lazy("idempotency key"), max_length=255)
    fingerprint = models.CharField(gettext_lazy("body fingerprint"), max_length=64)
    status = models.PositiveSmallIntegerField(gettext_lazy("status"))
    headers = models.JSONField(gettext_lazy("headers"), default=dict)
    body = models.BinaryField(gettext_lazy("body"))
    created_at = models.DateTimeField(gettext_lazy("created at"), db_index=True)

    class Meta:
        verbose_name = gettext_lazy("idempotent response")
        verbose_name_plural = gettext_lazy("idempotent responses")

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
