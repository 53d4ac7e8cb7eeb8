from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class IndexConfig(AppConfig):
    name = "apps.index"
    label = "index"
    verbose_name = gettext_lazy("Read models")

    def ready(self) -> None:
        from .health import register

        register()
