"""Keyset (cursor) pagination for every list of the API, and the deprecated page numbers.

``?cursor=<opaque>&page_size=50`` (20 by default, 100 at most) answers
``{"next": url|null, "previous": url|null, "results": [...]}``; the first page has no
cursor. A cursor holds the position of a row in the list's ordering: the values of every
ordering field of that row and its primary key (the tie-breaker
``apps.api.filters.StableOrderingFilter`` appends), and the page fetched from it is the
rows strictly after (or, for ``previous``, strictly before) that position. Rows written
between two requests therefore never make a page repeat or skip a row, whatever the
ordering (descending, non-unique, empty values last), which an offset cannot promise
(DRF's ``CursorPagination`` falls back to one for non-unique fields).

A cursor is signed (with ``SECRET_KEY``: rotating it voids the cursors handed out, which
clients then restart from the first page): a changed or made-up one is a 400, as is one
minted on another list or under another ``?ordering=``; only a signed payload is ever
decompressed or parsed. One query per page (``page_size + 1`` rows, the extra
one saying whether there is a next page), no ``COUNT``.

``?page=2`` still answers the old page-number shape with ``count`` (integrations written
before cursors), marked deprecated (``apps.api.deprecation.PAGE_NUMBERS``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import F, OrderBy, Q, QuerySet
from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .deprecation import PAGE_NUMBERS

CURSOR_SALT = "apps.api.pagination.cursor"
VALUE_ALIAS = "_cursor_value_%d"


class InvalidCursor(ValidationError):
    """The ``cursor`` parameter is not one this list handed out (400)."""

    def __init__(self, message: str) -> None:
        super().__init__({"cursor": [message]})


@dataclass(frozen=True)
class OrderingKey:
    """One term of a list's ordering: a field path, descending or not (empty values last)."""

    name: str
    descending: bool

    @property
    def label(self) -> str:
        return f"-{self.name}" if self.descending else self.name


def ordering_keys(queryset: QuerySet) -> list[OrderingKey]:
    """The terms ``queryset`` is ordered by, ending with the primary key (appended if missing).

    ``StableOrderingFilter`` orders by ``F(field)`` with empty values last and the primary key
    last; a plain ``order_by("-field")`` is read the same way (the pagination filters with
    empty values last either way, so such a list must not hold empty values in that field).
    """
    keys = []
    for term in queryset.query.order_by:
        if isinstance(term, OrderBy) and isinstance(term.expression, F):
            keys.append(OrderingKey(term.expression.name, term.descending))
        elif isinstance(term, str):
            keys.append(OrderingKey(term.removeprefix("-"), term.startswith("-")))
        else:  # pragma: no cover - a programming error, found by the list's own tests
            raise TypeError(f"cursor pagination cannot follow the ordering term {term!r}")
    pk_names = {"pk", queryset.model._meta.pk.name}
    while keys and keys[-1].name in pk_names and not keys[-1].descending:
        keys.pop()
    if any(key.name in pk_names for key in keys):  # pragma: no cover - see StableOrderingFilter
        raise TypeError("the primary key may only be the ordering's last term, ascending")
    return [*keys, OrderingKey("pk", False)]


# -- the cursor's values, as JSON -------------------------------------------------------------


def _dump_value(value: Any) -> Any:
    """A value of a row as JSON; the full precision of times (microseconds) is kept."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _load_value(field, raw: Any) -> Any:
    """``raw`` as ``field``'s Python value (a signed cursor's values are ours: a failure here
    is a cursor of another version of the list, still a 400)."""
    if raw is None:
        return None
    try:
        return field.to_python(raw)
    except Exception as error:  # ValidationError, TypeError: not a value of this field
        raise InvalidCursor(gettext("The cursor does not fit this list.")) from error


@dataclass(frozen=True)
class Position:
    """Where a page starts: after (``forward``) or before the row with these ``values``."""

    values: tuple[Any, ...]  # one per ordering key, the primary key last
    forward: bool


class CursorCodec:
    """Signs positions into opaque, URL-safe strings bound to one list and one ordering."""

    def __init__(self, *, list_id: str, keys: Sequence[OrderingKey]) -> None:
        self.list_id = list_id
        self.ordering = ",".join(key.label for key in keys)

    def encode(self, position: Position) -> str:
        payload = {
            "l": self.list_id,
            "o": self.ordering,
            "v": [_dump_value(value) for value in position.values],
            "f": position.forward,
        }
        raw = json.dumps(payload, separators=(",", ":")).encode()
        packed = base64.urlsafe_b64encode(zlib.compress(raw)).decode().rstrip("=")
        return signing.Signer(salt=CURSOR_SALT).sign(packed)

    def decode(self, token: str, fields: Sequence[Any]) -> Position:
        try:
            packed = signing.Signer(salt=CURSOR_SALT).unsign(token)
            raw = zlib.decompress(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
            payload = json.loads(raw)
        except (signing.BadSignature, binascii.Error, zlib.error, ValueError, TypeError):
            raise InvalidCursor(
                gettext("The cursor is not valid; use the next and previous links as given.")
            ) from None
        if not isinstance(payload, dict) or payload.get("l") != self.list_id:
            raise InvalidCursor(gettext("The cursor belongs to another list."))
        if payload.get("o") != self.ordering:
            raise InvalidCursor(
                gettext(
                    "The cursor was made for another ordering; "
                    "keep the ordering of the request that gave it."
                )
            )
        values = payload.get("v")
        if not isinstance(values, list) or len(values) != len(fields):
            raise InvalidCursor(gettext("The cursor does not fit this list."))
        return Position(
            values=tuple(
                _load_value(field, raw) for field, raw in zip(fields, values, strict=True)
            ),
            forward=bool(payload.get("f")),
        )


# -- the keyset condition ---------------------------------------------------------------------


def _beyond(alias: str, key: OrderingKey, value: Any, forward: bool) -> Q | None:
    """Rows whose ``alias`` comes strictly after (``forward``) or before ``value`` in the
    direction of ``key``, empty values being last; None when no row can."""
    greater = key.descending != forward  # the comparison that moves away from the position
    if forward:
        if value is None:
            return None  # nothing comes after the empty values
        moved = Q(**{f"{alias}__{'lt' if not greater else 'gt'}": value})
        return moved | Q(**{f"{alias}__isnull": True})
    if value is None:
        return Q(**{f"{alias}__isnull": False})  # every value comes before the empty ones
    return Q(**{f"{alias}__{'lt' if not greater else 'gt'}": value})


def _same(alias: str, value: Any) -> Q:
    return Q(**{f"{alias}__isnull": True}) if value is None else Q(**{alias: value})


def keyset_filter(keys: Sequence[OrderingKey], position: Position) -> Q:
    """Rows strictly beyond ``position``: for each term, equal on the earlier terms and
    beyond on this one (the primary key, last, is never empty)."""
    condition = Q(pk__in=[])  # nothing, to OR onto
    equal = Q()
    for index, (key, value) in enumerate(zip(keys, position.values, strict=True)):
        alias = VALUE_ALIAS % index
        beyond = _beyond(alias, key, value, position.forward)
        if beyond is not None:
            condition |= equal & beyond
        equal &= _same(alias, value)
    return condition


def _ordered(keys: Sequence[OrderingKey], *, reverse: bool) -> list[OrderBy]:
    """The list's order on the aliased values, or its exact reverse (empty values first)."""
    terms = []
    for index, key in enumerate(keys):
        column = F(VALUE_ALIAS % index)
        empty = {"nulls_first": True} if reverse else {"nulls_last": True}
        terms.append(column.desc(**empty) if key.descending != reverse else column.asc(**empty))
    return terms


# -- the paginator ----------------------------------------------------------------------------


class _PageNumbers(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(BasePagination):
    """Cursor pagination (``DEFAULT_PAGINATION_CLASS``); ``?page=`` still works, deprecated."""

    cursor_query_param = "cursor"
    page_query_param = "page"
    page_size_query_param = "page_size"
    page_size = 20
    max_page_size = 100

    def __init__(self) -> None:
        self._page_numbers: _PageNumbers | None = None
        self.next_position: Position | None = None
        self.previous_position: Position | None = None

    # -- reading a page --

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list[Any]:
        self.request = request
        if self.page_query_param in request.query_params:
            if request.query_params.get(self.cursor_query_param):
                raise InvalidCursor(gettext("Send either a cursor or a page number, not both."))
            self._page_numbers = _PageNumbers()
            return self._page_numbers.paginate_queryset(queryset, request, view)

        self.page_size = self._page_size(request)
        self.keys = ordering_keys(queryset)
        self.codec = CursorCodec(list_id=request.path, keys=self.keys)
        queryset = queryset.annotate(
            **{VALUE_ALIAS % index: F(key.name) for index, key in enumerate(self.keys)}
        )
        token = request.query_params.get(self.cursor_query_param)
        position = self._position(token, queryset) if token else None

        forward = position is None or position.forward
        if position is not None:
            queryset = queryset.filter(keyset_filter(self.keys, position))
        queryset = queryset.order_by(*_ordered(self.keys, reverse=not forward))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if not forward:
            rows.reverse()

        # Coming from a cursor, the way back is open (it is where the client came from).
        has_next = more if forward else True
        has_previous = (position is not None) if forward else more
        self.next_position = self._at(rows[-1], forward=True) if rows and has_next else None
        self.previous_position = self._at(rows[0], forward=False) if rows and has_previous else None
        return rows

    def _page_size(self, request) -> int:
        """``?page_size=``, capped; anything but a positive number means the default."""
        raw = request.query_params.get(self.page_size_query_param, "")
        size = int(raw) if raw.isdecimal() and len(raw) < 10 else 0
        return min(size, self.max_page_size) if size > 0 else self.page_size

    def _position(self, token: str, queryset: QuerySet) -> Position:
        annotations = queryset.query.annotations
        fields = [annotations[VALUE_ALIAS % index].output_field for index in range(len(self.keys))]
        return self.codec.decode(token, fields)

    def _at(self, row: Any, *, forward: bool) -> Position:
        values = tuple(getattr(row, VALUE_ALIAS % index) for index in range(len(self.keys)))
        return Position(values, forward)

    # -- the answer --

    def _link(self, position: Position | None) -> str | None:
        if position is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, self.codec.encode(position))

    def get_paginated_response(self, data: list[Any]) -> Response:
        if self._page_numbers is not None:
            response = self._page_numbers.get_paginated_response(data)
            PAGE_NUMBERS.mark(response, self.request)
            return response
        return Response(
            {
                "next": self._link(self.next_position),
                "previous": self._link(self.previous_position),
                "results": data,
            }
        )

    # -- the OpenAPI description --

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page, or null after the last."},
                "previous": {**link, "description": "The previous page, or null on the first."},
                "count": {
                    "type": "integer",
                    "description": "Only with the deprecated page parameter: all the rows.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Where the page starts: the opaque cursor of a next or previous link. "
                    "It is valid only with the ordering of the request that gave it."
                ),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page: {self.page_size} by default, at most "
                f"{self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "deprecated": True,
                "description": (
                    "A page number (answers with count; a page past the end is a 404). "
                    + PAGE_NUMBERS.note
                ),
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
