from typing import Any

from apps.events.schema import (
    AggregateVersion,
    CurrencyCode,
    DomainEvent,
    NonNegativeAmount,
    NonNegativeInt,
    NonNilUUID,
    ShortText,
    StatusChange,
    Text,
    upcaster,
)


class WidgetChanged(DomainEvent):
    event_type = "testing.widget.changed"
    aggregate_type = "widget"
    aggregate_id_field = "widget_id"
    aggregate_version_field = "version"

    widget_id: NonNilUUID
    version: AggregateVersion
    note: ShortText


class WidgetPriced(DomainEvent):
    event_type = "testing.widget.priced"
    aggregate_type = "widget"
    aggregate_id_field = "widget_id"

    widget_id: NonNilUUID
    amount: NonNegativeAmount
    currency: CurrencyCode
    quantity: NonNegativeInt
    label: Text(40)


class WidgetStatusChanged(StatusChange):
    event_type = "testing.widget.status_changed"
    aggregate_type = "widget"
    aggregate_id_field = "widget_id"

    widget_id: NonNilUUID


class WidgetLabelled(DomainEvent):
    """At v2: v1's ``text`` became ``label``, and labels got a locale."""

    event_type = "testing.widget.labelled"
    schema_version = 2
    aggregate_type = "widget"
    aggregate_id_field = "widget_id"
    aggregate_version_field = "version"

    widget_id: NonNilUUID
    version: AggregateVersion
    label: ShortText
    label_locale: ShortText


@upcaster("testing.widget.labelled", from_version=1)
def _widget_labelled_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # v1 labels were all written in English.
    payload["label"] = payload.pop("text")
    payload.setdefault("label_locale", "en")
    return payload
