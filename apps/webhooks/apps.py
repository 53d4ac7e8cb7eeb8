from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = gettext_lazy("Webhooks")

    def ready(self) -> None:
        from .health import register

        register()
