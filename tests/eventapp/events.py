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
