from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = gettext_lazy("Core")

    def ready(self) -> None:
        from .health import register_core_dependencies

        register_core_dependencies()
