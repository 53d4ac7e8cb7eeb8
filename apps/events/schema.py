"""The typed event catalogue: base class, validated field types, versions and upcasters.

Each module declares its events in its own ``events.py``::

    class ProductPublished(DomainEvent):
        event_type = "commerce.product.published"
        schema_version = 1
        aggregate_type = "product"
        aggregate_id_field = "product_id"

        product_id: NonNilUUID
        version: AggregateVersion

Building an event validates it; a bad field raises ``EventValidationError``
naming the field. Stored payloads of older versions are upcast on read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from .currencies import ISO_4217
from .errors import EventValidationError, UnknownEventType

EVENT_TYPE_RE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


def _not_nil(value: UUID) -> UUID:
    if value.int == 0:
        raise ValueError("must not be the nil UUID")
    return value


def _currency(value: str) -> str:
    if value not in ISO_4217:
        raise ValueError(f"'{value}' is not an ISO 4217 currency code")
    return value


NonNilUUID = Annotated[UUID, AfterValidator(_not_nil)]
CurrencyCode = Annotated[
    str, StringConstraints(to_upper=True, strip_whitespace=True), AfterValidator(_currency)
]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegativeAmount = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)]
AggregateVersion = Annotated[int, Field(ge=1)]


def Text(max_length: int) -> Any:
    """A non-empty string (after trimming) of at most ``max_length`` characters."""
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
    ]


ShortText = Text(255)
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,254}$")]


class DomainEvent(BaseModel):
    """Base of every event. Subclasses set the class variables and declare payload fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    aggregate_type: ClassVar[str]
    aggregate_id_field: ClassVar[str]
    aggregate_version_field: ClassVar[str | None] = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _as_event_error(getattr(self, "event_type", type(self).__name__), exc) from None

    # An event is valid from the moment it exists, and frozen: pydantic's two ways of building
    # an instance without validation validate here, so ``publish()`` can trust what it gets.
    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Self:
        return cls(**values)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        if not update:
            return super().model_copy(deep=deep)
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self)(**(fields | dict(update)))

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # Runs once pydantic has built the fields; abstract bases are not registered.
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__dict__.get("abstract", False):
            register(cls)

    @property
    def aggregate_id(self) -> str:
        return str(getattr(self, self.aggregate_id_field))

    @property
    def aggregate_version(self) -> int | None:
        field = self.aggregate_version_field
        return getattr(self, field) if field else None

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StatusChange(DomainEvent):
    """An event that moves an aggregate from one status to another; the two must differ."""

    abstract: ClassVar[bool] = True

    from_status: ShortText
    to_status: ShortText

    @model_validator(mode="after")
    def _changes_something(self) -> StatusChange:
        if self.from_status == self.to_status:
            raise ValueError(
                f"to_status: status change must change the status (both '{self.to_status}')"
            )
        return self


def _as_event_error(event_type: str, exc: ValidationError) -> EventValidationError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or "payload"
    message = first.get("msg", "invalid")
    if not first.get("loc") and ":" in message:  # model-level validator naming its field
        field, message = (part.strip() for part in message.split(":", 1))
        field = field.removeprefix("Value error, ")
    return EventValidationError(event_type, field, message)


# -- the catalogue ------------------------------------------------------------

_events: dict[tuple[str, int], type[DomainEvent]] = {}
_latest: dict[str, int] = {}
_upcasters: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


def register(cls: type[DomainEvent]) -> None:
    event_type = cls.__dict__.get("event_type") or getattr(cls, "event_type", None)
    if not event_type or not EVENT_TYPE_RE.fullmatch(event_type):
        raise TypeError(f"{cls.__name__}: event_type must look like 'module.entity.verb'")
    if cls.aggregate_id_field not in cls.model_fields:
        raise TypeError(
            f"{cls.__name__}: aggregate_id_field '{cls.aggregate_id_field}' is not a field"
        )
    key = (event_type, cls.schema_version)
    existing = _events.get(key)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise TypeError(f"{event_type} v{cls.schema_version} is declared twice")
    _events[key] = cls
    _latest[event_type] = max(_latest.get(event_type, 0), cls.schema_version)


def upcaster(event_type: str, *, from_version: int):
    """Declare how a stored payload of ``from_version`` becomes ``from_version + 1``."""

    def decorate(func: Callable[[dict[str, Any]], dict[str, Any]]):
        _upcasters[(event_type, from_version)] = func
        return func

    return decorate


def event_class(event_type: str, version: int | None = None) -> type[DomainEvent]:
    version = version or _latest.get(event_type)
    try:
        return _events[(event_type, version)]  # type: ignore[index]
    except KeyError:
        raise UnknownEventType(f"no schema for {event_type} v{version}") from None


def known_event_types() -> list[str]:
    return sorted(_latest)


def upcast(event_type: str, version: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Bring a stored payload up to the latest version of its type."""
    latest = _latest.get(event_type)
    if latest is None:
        raise UnknownEventType(f"unknown event type {event_type}")
    while version < latest:
        step = _upcasters.get((event_type, version))
        if step is None:
            raise UnknownEventType(f"no upcaster for {event_type} v{version} -> v{version + 1}")
        payload = step(dict(payload))
        version += 1
    return version, payload


def load(event_type: str, version: int, payload: dict[str, Any]) -> DomainEvent:
    """The typed event of a stored payload, upcast to the latest version and validated."""
    version, payload = upcast(event_type, version, payload)
    return event_class(event_type, version)(**payload)
