from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class LedgerConfig(AppConfig):
    name = "apps.events.ledger"
    label = "events_ledger"
    verbose_name = gettext_lazy("Processed events")
