"""Filters shared by the lists of the API, and their ordering: ``?ordering=-published_at,position``."""

from __future__ import annotations

from datetime import UTC

from django import forms
from django.db.models import F
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An integer id (a bigint key): anything else is a 400, not a 500."""

    field_class = forms.IntegerField


class _InstantField(filters.IsoDateTimeFilter.field_class):
    """An ISO 8601 time as UTC: PostgreSQL refuses offsets Python accepts (``+16:22``), and a
    time that leaves the calendar in UTC is invalid input, not a 500."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class InstantFilter(filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` whose value is sent to the database in UTC."""

    field_class = _InstantField


class StableOrderingFilter(OrderingFilter):
    """DRF's ``OrderingFilter`` with empty values last and the primary key as a tie-breaker.

    A view lists what may be ordered by in ``ordering_fields`` and its default in
    ``ordering``. The tie-breaker makes the order total, which the cursors of
    ``apps.api.pagination`` rely on: a position in it names exactly one row even
    when many rows share a timestamp or a position.
    """

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = ", ".join(getattr(view, "ordering_fields", None) or ())
        default = ",".join(getattr(view, "ordering", None) or ())
        for parameter in parameters:
            parameter["description"] = (
                f"Comma-separated fields, '-' for descending: {fields}. Default: {default}."
            )
        return parameters

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view) or []
        expressions = []
        for field in ordering:
            name = field.removeprefix("-")
            if name in {"pk", "id"}:
                continue
            column = F(name)
            expressions.append(
                column.desc(nulls_last=True)
                if field.startswith("-")
                else column.asc(nulls_last=True)
            )
        expressions.append(F("pk").asc())
        return queryset.order_by(*expressions)
