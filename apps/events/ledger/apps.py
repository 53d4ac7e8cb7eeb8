from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "apps.events.ledger"
    label = "events_ledger"
    verbose_name = "Processed events"
